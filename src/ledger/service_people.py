"""Commands about people: registration (with duplicate detection), courses, privacy choices,
erasure, and the corrections of a person's record (a course retracted, a duplicate merged)."""

from __future__ import annotations

import uuid
from datetime import date

from ledger.domain import corrections
from ledger.domain.actors import Actor
from ledger.domain.enrolment import enrolment_id
from ledger.domain.errors import Conflict, InvalidCommand, NotFound, PossibleDuplicate
from ledger.domain.person import (
    ERASURE_REASONS,
    CourseDelivered,
    CourseRetracted,
    DuplicateMerged,
    MarkedDuplicate,
    NamePublicationChanged,
    Person,
    PersonalDataErased,
    PersonRegistered,
    PublicListingChanged,
)
from ledger.service_core import ServiceCore, as_id, text
from ledger.service_ports import Receipt


class PeopleCommands(ServiceCore):
    def register_person(
        self,
        actor: Actor,
        name: str,
        email: str,
        organisation: str,
        region: str,
        country: str,
        *,
        confirm_duplicate: bool = False,
    ) -> Receipt:
        """Register a person. When the directory knows people with the same email, or the same
        name and organisation, `PossibleDuplicate` names them unless `confirm_duplicate`."""
        now = self.clock.now()
        email = text("email", email)
        if "@" not in email:
            raise InvalidCommand("email", "is not an email address")
        name, organisation = text("name", name), text("organisation", organisation)
        if not confirm_duplicate:
            matches = self.possible_duplicates(name, email, organisation)
            if matches:
                raise PossibleDuplicate(matches)
        person = Person.start(
            PersonRegistered,
            uuid.uuid4(),
            actor,
            now,
            name=name,
            email=email,
            organisation=organisation,
            region=text("region", region),
            country=text("country", country),
        )
        receipt = self._save(str(person.id), person)
        if self.people is not None:
            self.people.add(str(person.id), name, email, organisation)
        return receipt

    def possible_duplicates(self, name: str, email: str, organisation: str) -> tuple[str, ...]:
        """People already registered who may be this one (kept people named for duplicates;
        erased people left out), best match first. Without a directory, none."""
        if self.people is None:
            return ()
        found: list[str] = []
        for ident in self.people.duplicates(name, email, organisation):
            try:
                person = self.kept_person(self.person(ident))
            except (NotFound, InvalidCommand):  # the directory knows of a person no longer here
                continue
            if not person.erased and str(person.id) not in found:
                found.append(str(person.id))
        return tuple(found)

    def record_course(
        self,
        actor: Actor,
        person_id: str,
        delivered_on: date,
        region: str,
        participants: int,
        full_programme: bool = False,
        observed_by: str | None = None,
    ) -> Receipt:
        now, day = self._day(delivered_on, "delivered_on")
        person = self.person(person_id)
        if person.erased:
            raise Conflict("the person's data is erased; no new history is recorded")
        self._not_a_duplicate(person)
        if participants < 1:
            raise InvalidCommand("participants", "must be at least 1")
        delivery = str(uuid.uuid4())
        person.record(
            CourseDelivered,
            actor,
            now,
            day,
            delivery_id=delivery,
            region=text("region", region),
            participants=participants,
            full_programme=full_programme,
            observed_by=None if observed_by is None else text("observed_by", observed_by),
        )
        return self._save(delivery, person)

    def retract_course(
        self, actor: Actor, person_id: str, delivery_id: str, reason: str
    ) -> Receipt:
        """Take back a course recorded by mistake; refused (R5, R6, R9) once a licence or
        instructor decision counted it."""
        now = self.clock.now()
        person = self.person(person_id)
        if person.erased:
            raise Conflict("the person's data is erased; no new history is recorded")
        reason = text("reason", reason)
        delivery = person.delivery(delivery_id)
        if delivery is None:
            if delivery_id in person.retracted:
                raise Conflict(f"course {delivery_id} is already retracted")
            raise NotFound("course", delivery_id)
        lookups = self._lookups()
        held = {*lookups.certificates_of(str(self.kept_person(person).id))}
        held.update(lookups.certificates_of(str(person.id)))
        for certificate_id in sorted(held):
            cert = self.certificate(certificate_id)
            corrections.course_retraction(
                delivery.delivered_on, cert.certificate_id, cert.counting(delivery_id)
            )
        person.record(CourseRetracted, actor, now, delivery_id=delivery_id, reason=reason)
        return self._save(delivery_id, person)

    def set_name_hidden(self, actor: Actor, person_id: str, hidden: bool) -> Receipt:
        now = self.clock.now()
        person = self.person(person_id)
        if person.name_hidden == hidden:
            return Receipt(id=str(person.id))
        person.record(NamePublicationChanged, actor, now, hidden=hidden)
        return self._save(str(person.id), person)

    def set_public_listing(self, actor: Actor, person_id: str, listed: bool) -> Receipt:
        """Opt the holder in to (or out of) the public register."""
        now = self.clock.now()
        person = self.person(person_id)
        if person.erased and listed:
            raise Conflict("the person's data is erased; they cannot be listed")
        if person.listed == listed:
            return Receipt(id=str(person.id))
        person.record(PublicListingChanged, actor, now, listed=listed)
        return self._save(str(person.id), person)

    def erase_person(self, actor: Actor, person_id: str, reason: str) -> Receipt:
        """Erasure: the key is destroyed; the history stays verifiable. `reason` is a code of
        ERASURE_REASONS, never free text (which would outlive the erasure in the log). The
        person leaves the directory at once."""
        now = self.clock.now()
        if self.in_batch:
            raise Conflict("erasure is final at once, so it cannot be part of a batch")
        if reason not in ERASURE_REASONS:
            raise InvalidCommand(
                "reason",
                f"{reason!r} is not an erasure reason code: one of {', '.join(ERASURE_REASONS)}",
            )
        person = self.person(person_id)
        if person.erased:
            raise Conflict("the person's data is already erased")
        person.record(PersonalDataErased, actor, now, reason=reason)
        receipt = self._save(str(person.id), person)
        self.personal_data.destroy(str(person.id))
        if self.people is not None:
            self.people.remove(str(person.id))
        self.repo.forget_cached()
        return receipt

    def mark_duplicate(self, actor: Actor, duplicate_id: str, kept_id: str, reason: str) -> Receipt:
        """Record that `duplicate_id` is `kept_id` registered twice: both streams say so in one
        save, and the duplicate's records then read as the kept person's."""
        now = self.clock.now()
        duplicate, kept = self.person(duplicate_id), self.person(kept_id)
        reason = text("reason", reason)
        people = {str(duplicate.id): duplicate, str(kept.id): kept}
        corrections.duplicate_marking(
            str(duplicate.id),
            str(kept.id),
            erased={ident for ident, p in people.items() if p.erased},
            duplicate_of={ident: p.duplicate_of for ident, p in people.items()},
        )
        corrections.duplicate_enrolments(self._shared_programmes(duplicate, kept))
        duplicate.record(MarkedDuplicate, actor, now, duplicate_of=str(kept.id), reason=reason)
        kept.record(DuplicateMerged, actor, now, duplicate_id=str(duplicate.id))
        return self._save(str(kept.id), duplicate, kept)

    def _shared_programmes(self, one: Person, other: Person) -> set[str]:
        """Programmes both people (with everyone merged into either) are enrolled in, checked
        against the enrolment streams themselves."""
        lookups = self._lookups()
        sides = [self.merged_people(one), self.merged_people(other)]
        named = {
            programme
            for side in sides
            for person in side
            for programme in lookups.programmes_of(str(person.id))
        }
        shared = set()
        for programme in named:
            programme_uuid = as_id("programme_id", programme)
            if all(
                any(self.repo.exists(enrolment_id(programme_uuid, p.id)) for p in side)
                for side in sides
            ):
                shared.add(programme)
        return shared
