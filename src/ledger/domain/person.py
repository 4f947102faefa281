"""People: personal data (encrypted per person in the store), courses delivered, erasure.

Mistakes are corrected by new events, never edits: a course recorded by mistake is retracted
(it then counts for nothing), and a person registered twice is marked a duplicate of the person
kept, whose records then read as one person's (the kept stream names every duplicate merged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    event_type,
)
from ledger.domain.values import Value

ERASED = "[erased]"
"""What a personal field reads as once its person's key has been destroyed."""

ERASURE_REASONS = (
    "request",
    "consent-withdrawn",
    "objection",
    "unlawful",
    "legal-obligation",
    "retention-ended",
)
"""Why personal data was erased, as a code (GDPR article 17(1) grounds, and the end of the
retention period): an erasure never records free text, which would outlive the erasure."""


@dataclass(frozen=True)
class Delivery(Value):
    delivery_id: str
    delivered_on: date
    region: str
    participants: int
    full_programme: bool
    observed_by: str | None
    recorded_by: str


@event_type
class PersonRegistered(LedgerCreated):
    TOPIC = "person.registered"
    PERSONAL: ClassVar[tuple[str, ...]] = ("name", "email", "organisation")
    name: str
    email: str
    organisation: str
    region: str
    country: str

    def apply(self, person: Person) -> None:
        person.name = self.name
        person.email = self.email
        person.organisation = self.organisation
        person.region = self.region
        person.country = self.country
        person.deliveries = []
        person.retracted = []
        person.duplicate_of = None
        person.duplicates = []
        person.erased = False
        person.name_hidden = False
        person.listed = False


@event_type
class CourseDelivered(LedgerEvent):
    TOPIC = "person.course_delivered"
    delivery_id: str
    region: str
    participants: int
    full_programme: bool
    observed_by: str | None

    def apply(self, person: Person) -> None:
        person.deliveries.append(
            Delivery(
                delivery_id=self.delivery_id,
                delivered_on=self.effective_on or self.timestamp.date(),
                region=self.region,
                participants=self.participants,
                full_programme=self.full_programme,
                observed_by=self.observed_by,
                recorded_by=self.actor,
            )
        )


@event_type
class CourseRetracted(LedgerEvent):
    """A course recorded by mistake no longer counts; `reason` is encrypted under the person."""

    TOPIC = "person.course_retracted"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    delivery_id: str
    reason: str

    def apply(self, person: Person) -> None:
        person.deliveries = [d for d in person.deliveries if d.delivery_id != self.delivery_id]
        person.retracted.append(self.delivery_id)


@event_type
class MarkedDuplicate(LedgerEvent):
    """On the duplicate's stream: this person is `duplicate_of`, registered twice."""

    TOPIC = "person.marked_duplicate"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    duplicate_of: str
    reason: str

    def apply(self, person: Person) -> None:
        person.duplicate_of = self.duplicate_of


@event_type
class DuplicateMerged(LedgerEvent):
    """On the kept person's stream, saved with `person.marked_duplicate`: whose records to
    read as this person's."""

    TOPIC = "person.duplicate_merged"
    duplicate_id: str

    def apply(self, person: Person) -> None:
        person.duplicates.append(self.duplicate_id)


@event_type
class NamePublicationChanged(LedgerEvent):
    TOPIC = "person.name_publication_changed"
    hidden: bool

    def apply(self, person: Person) -> None:
        person.name_hidden = self.hidden


@event_type
class PublicListingChanged(LedgerEvent):
    """The holder opts in to (or out of) the public register of valid certificates."""

    TOPIC = "person.public_listing_changed"
    listed: bool

    def apply(self, person: Person) -> None:
        person.listed = self.listed


@event_type
class PersonalDataErased(LedgerEvent):
    TOPIC = "person.personal_data_erased"
    reason: str  # one of ERASURE_REASONS (free text in records written before the codes)

    def apply(self, person: Person) -> None:
        person.erased = True
        person.listed = False
        person.name = person.email = person.organisation = ERASED


@aggregate_type(PersonRegistered)
class Person(LedgerAggregate):
    TYPE_NAME = "Person"
    SHARED_ITEM_LISTS = ("deliveries",)
    if TYPE_CHECKING:
        name: str
        email: str
        organisation: str
        region: str
        country: str
        deliveries: list[Delivery]
        retracted: list[str]
        duplicate_of: str | None
        duplicates: list[str]
        erased: bool
        name_hidden: bool
        listed: bool

    def delivery(self, delivery_id: str) -> Delivery | None:
        """The course `delivery_id` as it counts now (None once retracted)."""
        return next((d for d in self.deliveries if d.delivery_id == delivery_id), None)

    def courses_between(self, start: date, end: date) -> list[Delivery]:
        return [d for d in self.deliveries if start <= d.delivered_on <= end]

    @property
    def full_programmes(self) -> int:
        return sum(1 for d in self.deliveries if d.full_programme)
