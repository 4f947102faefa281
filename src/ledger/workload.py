"""Deterministic synthetic histories, written through the service layer (no back door).

Used by the tamper and crash tests and by the benchmarks: `generate(service, events=N, seed=S)`
records about N events of realistic shape (programmes, people, enrolments, attendance, field
projects, qualifications, courses, licences and their decisions) and returns what it made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import DomainError
from ledger.service import LedgerService

REGISTRAR = Actor("registrar-workload", Role.REGISTRAR)
COMMITTEE = Actor("committee-workload", Role.COMMITTEE)
MATERIAL = "ECEI-2014"


@dataclass
class Workload:
    events: int = 0
    people: list[str] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)
    qualifications: list[str] = field(default_factory=list)

    def add(self, events: int = 1) -> None:
        self.events += events


def generate(service: LedgerService, events: int, seed: int = 7) -> Workload:
    """Record at least `events` events; stop at the end of the trainer that crosses the count."""
    rng = random.Random(seed)
    made = Workload()

    if MATERIAL not in service.published_versions():
        try:
            service.publish_material(REGISTRAR, MATERIAL, "ECEI material", on=date(2014, 1, 6))
            made.add(2)
        except DomainError:
            pass  # another writer published it first
    cohort = 0
    while made.events < events:
        cohort += 1
        start = date(2012, 12, 3) + timedelta(days=7 * (cohort % 20))
        programme = service.open_programme(
            REGISTRAR, f"Programme {cohort}", start, start + timedelta(days=240), "ECEI-2012"
        ).id
        made.add()
        for week in range(1, 7):
            begin = start + timedelta(weeks=5 * (week - 1))
            service.schedule_week(
                REGISTRAR,
                programme,
                week,
                begin,
                begin + timedelta(days=4),
                "Barcelona",
                [f"Module {week}"],
            )
            made.add()
        for team in range(4):
            if made.events >= events:
                break
            _team(service, rng, programme, start, cohort, team, made)
    return made


def _team(
    service: LedgerService,
    rng: random.Random,
    programme: str,
    start: date,
    cohort: int,
    team: int,
    made: Workload,
) -> None:
    project = service.register_project(
        REGISTRAR, programme, f"Cluster {cohort}-{team}", "Manufacturing", "Region", "Country"
    ).id
    # People are named after their cohort and team, so two generators on one ledger (concurrent
    # writers, a second run) register look-alikes: distinct people on purpose.
    tutor = service.register_person(
        REGISTRAR,
        f"Tutor {cohort}-{team}",
        f"tutor{cohort}x{team}@example.org",
        f"Academy {cohort}-{team}",
        "Region",
        "Country",
        confirm_duplicate=True,
    ).id
    service.assign_tutor(REGISTRAR, project, tutor)
    made.add(3)
    members = []
    for seat in range(rng.randint(1, 3)):
        person = service.register_person(
            REGISTRAR,
            f"Trainer {cohort}-{team}-{seat}",
            f"t{cohort}x{team}x{seat}@example.org",
            f"Agency {cohort}-{team}-{seat}",
            "Region",
            "Country",
            confirm_duplicate=True,
        ).id
        service.enrol(REGISTRAR, programme, person)
        service.assign_member(REGISTRAR, project, person)  # two events: project and enrolment
        made.add(4)
        attended = rng.choice((4, 5, 6, 6, 6))
        for week in range(1, attended + 1):
            service.record_attendance(REGISTRAR, programme, person, week)
            made.add()
        members.append((person, attended))
        made.people.append(person)
    service.sign_off(Actor(tutor, Role.TUTOR), project, "done", on=start + timedelta(days=230))
    made.add()
    awarded_on = start + timedelta(days=235)
    for person, _attended in members:
        try:
            qualification = service.award_qualification(
                COMMITTEE, programme, person, on=awarded_on
            ).id
        except DomainError:
            continue  # R2 blocks those with too few weeks, as it should
        made.add(2)
        made.qualifications.append(qualification)
        _licence_path(service, rng, person, qualification, awarded_on, made)


def _licence_path(
    service: LedgerService,
    rng: random.Random,
    person: str,
    qualification: str,
    awarded_on: date,
    made: Workload,
) -> None:
    first_course = awarded_on + timedelta(days=60)
    service.record_course(REGISTRAR, person, first_course, "Region", rng.randint(5, 25))
    made.add()
    granted = first_course + timedelta(days=30)
    licence = service.grant_licence(
        COMMITTEE, qualification, ["Region"], ["en"], MATERIAL, on=granted
    ).id
    made.add()
    made.licences.append(licence)
    for n in range(rng.randint(1, 6)):
        service.record_course(
            REGISTRAR, person, granted + timedelta(days=40 * (n + 1)), "Region", rng.randint(5, 25)
        )
        made.add()
    fate = rng.random()
    if fate < 0.15:
        service.suspend_licence(
            COMMITTEE,
            licence,
            "complaint under review",
            granted + timedelta(days=200),
            on=granted + timedelta(days=120),
        )
        service.reinstate_licence(COMMITTEE, licence, on=granted + timedelta(days=150))
        made.add(2)
    elif fate < 0.2:
        service.revoke_licence(
            COMMITTEE, licence, "breach of conduct", on=granted + timedelta(days=300)
        )
        made.add()
