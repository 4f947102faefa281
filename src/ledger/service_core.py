"""What every family of commands shares: checked input, loading aggregates, saving, batches.

The command families (`service_people`, `service_training`, `service_decisions`) extend
`ServiceCore`; `ledger.service.LedgerService` combines them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Self, TypeVar
from uuid import UUID

from ledger import request_keys
from ledger.clock import Clock
from ledger.domain.appeal import Appeal
from ledger.domain.certificates import (
    Certificate,
    InstructorCertification,
    Licence,
    certificate_stream,
    parse_certificate_id,
)
from ledger.domain.enrolment import Enrolment, enrolment_id
from ledger.domain.errors import (
    BatchRefused,
    Conflict,
    DomainError,
    InvalidCommand,
    RuleViolation,
)
from ledger.domain.person import Delivery, Person
from ledger.domain.policy import Policy
from ledger.domain.programme import CATALOGUE_ID, Catalogue, Programme
from ledger.domain.project import FieldProject
from ledger.domain.values import PersonalText
from ledger.service_batch import Batch, Overlay, PendingPeople
from ledger.service_ports import Lookups, PeopleDirectory, PersonalData, Receipt, Repository

MAX_TEXT = 500
T = TypeVar("T")


def text(name: str, value: str, *, optional: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(name, "must be text")
    cleaned = value.strip()
    if not cleaned and not optional:
        raise InvalidCommand(name, "must not be empty")
    if len(cleaned) > MAX_TEXT:
        raise InvalidCommand(name, f"must be at most {MAX_TEXT} characters")
    return cleaned


def about(person: str, name: str, value: str) -> PersonalText:
    """Checked free text about `person`: encrypted under their data key, shredded with it."""
    return PersonalText(text(name, value), person)


def tutors_note(project: FieldProject, note: str) -> PersonalText:
    """A sign-off note, return or withdrawal reason is about the tutor's own act (R3), so it is
    their personal data and erasing the tutor shreds it."""
    if project.tutor_id is None:
        raise RuleViolation("R3", "the project has no tutor to sign it off or return it")
    return PersonalText(note, project.tutor_id)


def names(name: str, values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(text(name, v) for v in values)
    if len(set(cleaned)) != len(cleaned):
        raise InvalidCommand(name, "lists a value twice")
    return cleaned


def as_id(name: str, value: str | UUID) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidCommand(name, f"{value!r} is not an id") from None


class ServiceCore:
    def __init__(
        self,
        repo: Repository,
        personal_data: PersonalData,
        clock: Clock,
        people: PeopleDirectory | None = None,
        lookups: Lookups | None = None,
    ) -> None:
        self.repo = repo
        self.personal_data = personal_data
        self.clock = clock
        self.people = people
        self.lookups = lookups

    # -- time, saving, batches ---------------------------------------------------------------

    def _day(self, on: date | None, name: str = "on") -> tuple[datetime, date]:
        now = self.clock.now()
        day = on or now.date()
        if day > now.date():
            raise InvalidCommand(name, f"{day} is in the future; record events once they happen")
        return now, day

    def _save(self, ident: str, *aggregates: Any) -> Receipt:
        request_keys.note_receipt(ident)
        return Receipt(id=ident, positions=tuple(self.repo.save(*aggregates)))

    @property
    def in_batch(self) -> bool:
        return isinstance(self.repo, Overlay)

    def batch(self) -> Batch[Self]:
        """A batch of commands written by one save at `commit`, or not at all if dropped.
        Erasure is refused in a batch: it destroys a key at once, which no rollback restores."""
        overlay = Overlay(self.repo)
        people = PendingPeople(self.people)
        service = type(self)(overlay, self.personal_data, self.clock, people, self.lookups)
        return Batch(service, overlay, people)

    def _all_or_nothing(
        self,
        ident: str,
        items: Sequence[tuple[str, T]],
        command: Callable[[Self, T], object],
    ) -> Receipt:
        """Run `command` on each (label, item) in one batch; if any is refused, write nothing
        and raise `BatchRefused` listing every refused item by its label."""
        batch = self.batch()
        problems: list[tuple[str, DomainError]] = []
        for label, item in items:
            try:
                command(batch.service, item)
            except DomainError as refused:
                problems.append((label, refused))
        if problems:
            raise BatchRefused(problems)
        return batch.commit(ident)

    def _lookups(self) -> Lookups:
        if self.lookups is None:
            raise Conflict("this command needs the ledger's read models, which are not available")
        return self.lookups

    # -- loading -----------------------------------------------------------------------------

    def programme(self, programme_id: str | UUID) -> Programme:
        return self.repo.get("programme", as_id("programme_id", programme_id), Programme)  # type: ignore[no-any-return]

    def person(self, person_id: str | UUID) -> Person:
        return self.repo.get("person", as_id("person_id", person_id), Person)  # type: ignore[no-any-return]

    def persons(self, person_ids: Sequence[str]) -> dict[str, Person]:
        """`person` of each of several people, read together (a page of a list)."""
        ids = {person_id: as_id("person_id", person_id) for person_id in person_ids}
        found = self.repo.get_many("person", list(dict.fromkeys(ids.values())), Person)
        return {person_id: found[ident] for person_id, ident in ids.items()}

    def enrolment(self, programme_id: str | UUID, person_id: str | UUID) -> Enrolment:
        ident = enrolment_id(as_id("programme_id", programme_id), as_id("person_id", person_id))
        return self.repo.get("enrolment", ident, Enrolment)  # type: ignore[no-any-return]

    def project(self, project_id: str | UUID) -> FieldProject:
        return self.repo.get("project", as_id("project_id", project_id), FieldProject)  # type: ignore[no-any-return]

    def certificate(self, certificate_id: str) -> Certificate:
        _, normal = parse_certificate_id(certificate_id)
        return self.repo.get("certificate", certificate_stream(normal), Certificate)  # type: ignore[no-any-return]

    def licence(self, certificate_id: str) -> Licence:
        cert = self.certificate(certificate_id)
        if not isinstance(cert, Licence):
            raise InvalidCommand("certificate_id", f"{certificate_id} is not a licence")
        return cert

    def instructor(self, certificate_id: str) -> InstructorCertification:
        cert = self.certificate(certificate_id)
        if not isinstance(cert, InstructorCertification):
            raise InvalidCommand(
                "certificate_id", f"{certificate_id} is not an instructor certification"
            )
        return cert

    def appeal(self, appeal_id: str | UUID) -> Appeal:
        return self.repo.get("appeal", as_id("appeal_id", appeal_id), Appeal)  # type: ignore[no-any-return]

    def policy_for(self, programme_id: str) -> Policy:
        return self.programme(programme_id).policy

    def published_versions(self) -> dict[str, str]:
        if not self.repo.exists(CATALOGUE_ID):
            return {}
        catalogue: Catalogue = self.repo.get("catalogue", CATALOGUE_ID, Catalogue)
        return dict(catalogue.versions)

    # -- people read as one ------------------------------------------------------------------

    def kept_person(self, person: Person) -> Person:
        """The person whose records `person`'s read as: themselves, unless marked a duplicate."""
        while person.duplicate_of is not None:
            person = self.person(person.duplicate_of)
        return person

    def merged_people(self, person: Person) -> list[Person]:
        """`person` as one: the kept person and everyone merged into them, kept first."""
        kept = self.kept_person(person)
        found, queue = [kept], list(kept.duplicates)
        while queue:
            merged = self.person(queue.pop(0))
            found.append(merged)
            queue.extend(merged.duplicates)
        return found

    def deliveries_of(self, person: Person) -> list[Delivery]:
        """The courses that count for `person`: theirs and those of people merged with them
        (retracted ones excluded), by date."""
        every = [d for p in self.merged_people(person) for d in p.deliveries]
        return sorted(every, key=lambda d: (d.delivered_on, d.delivery_id))

    def _not_a_duplicate(self, person: Person) -> None:
        """New history is recorded for the kept person, never for a duplicate."""
        if person.duplicate_of is not None:
            raise Conflict(
                f"person {person.id} is marked a duplicate of {person.duplicate_of};"
                " record this for that person"
            )
