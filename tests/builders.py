"""Builders that walk the service layer through a trainer's path (no back doors)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.domain.actors import Actor, Role
from ledger.service import LedgerService
from ledger.store.application import Store

REGISTRAR = Actor("registrar-ana", Role.REGISTRAR)
COMMITTEE = Actor("committee-bo", Role.COMMITTEE)
PANEL = Actor("committee-chiara", Role.COMMITTEE)
PROGRAMME_START = date(2012, 12, 3)


@dataclass
class Cohort:
    programme_id: str
    project_id: str
    tutor_id: str
    tutor: Actor
    members: list[str] = field(default_factory=list)


def open_programme(service: LedgerService, weeks: int = 6) -> str:
    programme = service.open_programme(
        REGISTRAR,
        "1st train the trainers programme",
        PROGRAMME_START,
        date(2013, 7, 31),
        "ECEI-2012",
    ).id
    for number in range(1, weeks + 1):
        start = PROGRAMME_START + timedelta(weeks=5 * (number - 1))
        service.schedule_week(
            REGISTRAR,
            programme,
            number,
            start,
            start + timedelta(days=4),
            "Barcelona",
            [f"Module {2 * number - 1}", f"Module {2 * number}"],
        )
    return programme


def register(
    service: LedgerService, name: str, organisation: str, region: str = "Cantabria"
) -> str:
    email = name.lower().replace(" ", ".") + "@example.org"
    # Builders make look-alike people on purpose (a cohort twice in one ledger): confirmed.
    return service.register_person(
        REGISTRAR, name, email, organisation, region, "Spain", confirm_duplicate=True
    ).id


def cohort(service: LedgerService, members: int = 1, attended: int = 6) -> Cohort:
    """A programme with one field project, a tutor, enrolled members with attendance."""
    programme = open_programme(service)
    project = service.register_project(
        REGISTRAR, programme, "Gourmet Food Cantabria", "Gourmet food", "Cantabria", "Spain"
    ).id
    tutor_id = register(service, "Tomas Tutor", "Cluster Academy")
    service.assign_tutor(REGISTRAR, project, tutor_id)
    result = Cohort(programme, project, tutor_id, Actor(tutor_id, Role.TUTOR))
    for index in range(members):
        person = register(service, f"Member {index} Example", f"Agency {index}")
        service.enrol(REGISTRAR, programme, person, consortium="CIP Call 2011-2012")
        service.assign_member(REGISTRAR, project, person)
        for week in range(1, attended + 1):
            service.record_attendance(REGISTRAR, programme, person, week)
        result.members.append(person)
    return result


def qualified(service: LedgerService, on: date = date(2013, 7, 20)) -> tuple[Cohort, str]:
    group = cohort(service)
    service.sign_off(group.tutor, group.project_id, "Good work", on=date(2013, 7, 10))
    certificate = service.award_qualification(
        COMMITTEE, group.programme_id, group.members[0], on=on
    ).id
    return group, certificate


def licensed(service: LedgerService, granted_on: date = date(2014, 3, 3)) -> tuple[Cohort, str]:
    group, qualification = qualified(service)
    service.publish_material(
        REGISTRAR, "ECEI-2014", "ECEI material, 2014 edition", on=date(2014, 1, 10)
    )
    service.record_course(REGISTRAR, group.members[0], date(2014, 2, 1), "Cantabria", 14)
    licence = service.grant_licence(
        COMMITTEE,
        qualification,
        ["Cantabria", "Asturias"],
        ["es", "en"],
        "ECEI-2014",
        on=granted_on,
    ).id
    return group, licence


class ScannedLookups:
    """`ledger.service.Lookups` answered naively from every record in the store (the read
    models answer the same questions fast): a reference the service's corrections and tutor
    checks can be tested against on both backends."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _records(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for notification in self.store.app.recorder.select_notifications(start=1, limit=10**9):
            record = json.loads(notification.state)
            yield record["type"], record["stream"], record["payload"]

    def tutors_of(self, programme_id: str) -> Collection[str]:
        projects: set[str] = set()
        tutors: set[str] = set()
        for kind, stream, payload in self._records():
            if kind == "project.registered" and payload["programme_id"] == programme_id:
                projects.add(stream)
            elif kind == "project.tutor_assigned" and stream in projects:
                tutors.add(payload["person_id"])
        return tutors

    def certificates_of(self, person_id: str) -> Collection[str]:
        records = list(self._records())
        merged = [(s, p["duplicate_id"]) for k, s, p in records if k == "person.duplicate_merged"]
        people, held = {person_id}, []
        while grown := {dup for kept, dup in merged if kept in people} - people:
            people |= grown
        for _, _, payload in records:
            if payload.get("holder_id") in people:
                held.append(payload["certificate_id"])
        return held

    def programmes_of(self, person_id: str) -> Collection[str]:
        return {
            payload["programme_id"]
            for kind, _, payload in self._records()
            if kind == "enrolment.enrolled" and payload["person_id"] == person_id
        }


def with_lookups(store: Store, service: LedgerService) -> LedgerService:
    """The same service, able to ask `ScannedLookups` what the read models would answer."""
    return LedgerService(store, service.personal_data, service.clock, lookups=ScannedLookups(store))
