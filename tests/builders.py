"""Builders that walk the service layer through a trainer's path (no back doors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.actors import Actor, Role
from ledger.service import LedgerService

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
    return service.register_person(REGISTRAR, name, email, organisation, region, "Spain").id


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
