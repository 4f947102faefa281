"""What a person's page shows: their details, certificates with status, the courses that count
for them (each with the reason it cannot be retracted, if a decision counted it), their path
as a timeline, and the acts the signed-in role may take.

Names are decrypted for staff here, once per page (`LedgerNames` keeps what it read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.console.decisions import in_words, rehearse
from ledger.console.frame import Link
from ledger.console.session import ConsoleUser
from ledger.console.timeline import Moment, timeline
from ledger.domain.actors import Role
from ledger.domain.errors import DomainError
from ledger.domain.person import Person
from ledger.runtime import Runtime
from ledger.service import LedgerService, Receipt
from ledger.views.history import history

RECORDERS = (Role.ADMIN, Role.REGISTRAR)
"""Who records courses, corrections, duplicates and privacy choices for a person."""


@dataclass
class LedgerNames:
    """Names for the timeline's sentences, read from the ledger (personal ones decrypted)."""

    runtime: Runtime
    usernames: Mapping[str, str] = field(default_factory=dict)
    _people: dict[str, str | None] = field(default_factory=dict)

    def person(self, person_id: str) -> str | None:
        if person_id not in self._people:
            try:
                self._people[person_id] = self.runtime.service.person(person_id).name
            except DomainError:  # not a person id (a system actor, say)
                self._people[person_id] = None
        return self._people[person_id]

    def programme(self, programme_id: str) -> str | None:
        row = self.runtime.queries.row("programme_roster", "programmes", programme_id)
        return None if row is None else str(row["title"])

    def project(self, project_id: str) -> str | None:
        row = self.runtime.queries.row("programme_roster", "projects", project_id)
        return None if row is None else str(row["cluster_initiative"])

    def staff(self, staff_id: str) -> str | None:
        return self.usernames.get(staff_id)


@dataclass(frozen=True)
class Course:
    """A course that counts for the person (theirs, or a merged duplicate's)."""

    owner_id: str
    delivery_id: str
    delivered_on: date
    region: str
    participants: int
    full_programme: bool
    refusal: str | None  # why it cannot be retracted (the rule and the decision), if so

    @property
    def retraction(self) -> str:
        return f"/console/people/{self.owner_id}/courses/{self.delivery_id}/retraction"


@dataclass(frozen=True)
class CertificateLine:
    certificate_id: str
    kind: str
    status: str
    valid_from: str | None
    valid_until: str | None
    until: str | None  # a suspension's end
    reason: str | None


@dataclass(frozen=True)
class PersonPage:
    person: Person
    kept: Link | None  # the person kept, when this one is marked a duplicate of them
    merged: tuple[Link, ...]  # people marked as duplicates of this one
    certificates: tuple[CertificateLine, ...]
    courses: tuple[Course, ...]
    moments: tuple[Moment, ...]
    acts: tuple[Link, ...]
    may_retract: bool


def acts_for(user: ConsoleUser, person: Person) -> tuple[Link, ...]:
    """The acts on a person open to the signed-in role (others are not offered)."""
    base = f"/console/people/{person.id}"
    found: list[Link] = []
    if person.erased:
        return ()
    if user.role in RECORDERS and person.duplicate_of is None:
        found += [
            Link(f"{base}/courses/new", "Record a course delivered"),
            Link(f"{base}/duplicate", "Mark as a duplicate of another person"),
            Link(
                f"{base}/name",
                "Show the name on public pages"
                if person.name_hidden
                else "Hide the name on public pages",
            ),
            Link(
                f"{base}/listing",
                "Take off the public register" if person.listed else "List in the public register",
            ),
        ]
    if user.role == Role.ADMIN:
        found.append(Link(f"{base}/erasure", "Erase personal data"))
    return tuple(found)


def certificates_of(runtime: Runtime, person_id: str, today: date) -> tuple[CertificateLine, ...]:
    status = runtime.queries.trainer_status(person_id, today)
    lines = []
    for found in (status or {}).get("certificates", []):
        facts: Mapping[str, Any] = found["facts"] or {}
        lines.append(
            CertificateLine(
                certificate_id=found["certificate_id"],
                kind=str(facts.get("kind") or ""),
                status=found["status"],
                valid_from=facts.get("valid_from"),
                valid_until=facts.get("valid_until"),
                until=found.get("until"),
                reason=found.get("reason"),
            )
        )
    return tuple(lines)


def retraction_refusal(
    service: LedgerService, user: ConsoleUser, person_id: str, delivery_id: str
) -> str | None:
    """Why the course cannot be retracted (the rule and the decision that counted it), found
    by rehearsing the retraction; None: it can be."""

    def retract(rehearsal: LedgerService) -> Receipt:
        return rehearsal.retract_course(user.actor, person_id, delivery_id, "rehearsal")

    tried = rehearse(service, retract)
    return None if tried.refusal is None else in_words(tried.refusal)


def courses_of(runtime: Runtime, user: ConsoleUser, person: Person) -> tuple[Course, ...]:
    """The courses counting for the person, each rehearsed for retraction when the signed-in
    role may retract: a refusal tells which decision counted it."""
    service = runtime.service
    people = [person] if person.duplicate_of is not None else service.merged_people(person)
    courses = []
    for owner in people:
        for delivery in owner.deliveries:
            refusal = None
            if user.role in RECORDERS and not person.erased:
                refusal = retraction_refusal(service, user, str(owner.id), delivery.delivery_id)
            courses.append(
                Course(
                    owner_id=str(owner.id),
                    delivery_id=delivery.delivery_id,
                    delivered_on=delivery.delivered_on,
                    region=delivery.region,
                    participants=delivery.participants,
                    full_programme=delivery.full_programme,
                    refusal=refusal,
                )
            )
    return tuple(sorted(courses, key=lambda c: (c.delivered_on, c.delivery_id)))


def person_page(
    runtime: Runtime, user: ConsoleUser, person: Person, usernames: Mapping[str, str]
) -> PersonPage:
    person_id = str(person.id)
    names = LedgerNames(runtime, usernames)
    found = history(runtime.queries, person_id, staff=True)
    kept = None
    if person.duplicate_of is not None:
        kept = Link(
            f"/console/people/{person.duplicate_of}",
            names.person(person.duplicate_of) or person.duplicate_of,
        )
    merged = tuple(
        Link(f"/console/people/{other}", names.person(other) or other) for other in found["merged"]
    )
    return PersonPage(
        person=person,
        kept=kept,
        merged=merged,
        certificates=certificates_of(runtime, person_id, runtime.clock.now().date()),
        courses=courses_of(runtime, user, person),
        moments=tuple(timeline(found, names)),
        acts=acts_for(user, person),
        may_retract=user.role in RECORDERS and not person.erased,
    )
