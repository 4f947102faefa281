"""Certificates: the Associate Trainer qualification, the licence and the Instructor Certification.

A certificate id is short enough to type from paper and unguessable: a kind prefix, eleven
random Crockford base-32 characters and a Luhn mod 32 check character, e.g. `LT-7KQ2-M9XD-3FHT`.
Its aggregate id is derived from it, so a verifier's lookup needs no index.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    derived_id,
    effective,
    event_type,
)
from ledger.domain.errors import InvalidCommand
from ledger.domain.values import Value

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = {"O": "0", "I": "1", "L": "1"}


class Kind(StrEnum):
    ASSOCIATE_TRAINER = "associate_trainer"
    LICENCE = "licence"
    INSTRUCTOR = "instructor"


PREFIX = {Kind.ASSOCIATE_TRAINER: "AT", Kind.LICENCE: "LT", Kind.INSTRUCTOR: "IC"}
KIND_OF_PREFIX = {prefix: kind for kind, prefix in PREFIX.items()}


def _luhn32(chars: str) -> str:
    factor, total = 2, 0
    for char in reversed(chars):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // 32 + addend % 32
    return ALPHABET[(32 - total % 32) % 32]


def new_certificate_id(kind: Kind) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(11))
    body += _luhn32(body)
    return f"{PREFIX[kind]}-{body[:4]}-{body[4:8]}-{body[8:]}"


def parse_certificate_id(text: str) -> tuple[Kind, str]:
    """Normalise a typed certificate id (case, spaces, O/I/L) and check its check character."""
    cleaned = "".join(c for c in text.upper() if c not in " -")
    prefix, body = cleaned[:2], "".join(_READ_AS.get(c, c) for c in cleaned[2:])
    kind = KIND_OF_PREFIX.get(prefix)
    if kind is None or len(body) != 12 or any(c not in ALPHABET for c in body):
        raise InvalidCommand("certificate_id", f"{text!r} is not a certificate id")
    if _luhn32(body[:11]) != body[11]:
        raise InvalidCommand("certificate_id", f"{text!r} has a wrong check character (typo?)")
    return kind, f"{prefix}-{body[:4]}-{body[4:8]}-{body[8:]}"


def certificate_stream(certificate_id: str) -> UUID:
    return derived_id("certificate", certificate_id)


def _term_status(day: date, valid_from: date, valid_until: date, revoked_on: date | None) -> str:
    """Expiry is derived from the date asked about: nothing is written when a term ends."""
    if revoked_on is not None and day >= revoked_on:
        return "revoked"
    if day < valid_from:
        return "unknown"
    if day > valid_until:
        return "expired"
    return "valid"


@dataclass(frozen=True)
class Suspension(Value):
    starts_on: date
    until: date
    reason: str
    ended_on: date | None

    def covers(self, day: date) -> bool:
        end = self.until if self.ended_on is None else self.ended_on
        return self.starts_on <= day < end


@dataclass(frozen=True)
class Decision(Value):
    """A committee decision on a certificate, which R11 lets the holder appeal."""

    version: int
    type: str
    decided_by: str
    decided_on: date


@dataclass(frozen=True)
class Counted(Value):
    """The courses a decision counted (R5 grant, R6 renewal, R9 certification or renewal), so
    that retracting one of them later can be refused naming the decision."""

    rule: str
    decision: str  # "granted", "renewed" or "certified"
    decided_on: date
    deliveries: tuple[str, ...]


class Certificate(LedgerAggregate):
    SHARED_ITEM_LISTS: ClassVar[tuple[str, ...]] = ("decisions", "counted")

    if TYPE_CHECKING:
        certificate_id: str
        holder_id: str
        decisions: list[Decision]
        counted: list[Counted]

    def _decided(self, event: LedgerEvent | LedgerCreated) -> None:
        self.decisions.append(
            Decision(event.originator_version, event.TOPIC, event.actor, effective(event))
        )

    def _counted(
        self, rule: str, decision: str, event: LedgerEvent | LedgerCreated, ids: tuple[str, ...]
    ) -> None:
        if ids:
            self.counted.append(Counted(rule, decision, effective(event), tuple(ids)))

    def decision(self, version: int) -> Decision | None:
        return next((d for d in self.decisions if d.version == version), None)

    def counting(self, delivery_id: str) -> Counted | None:
        """The first decision that counted course `delivery_id`, if any."""
        return next((c for c in self.counted if delivery_id in c.deliveries), None)


@event_type
class QualificationIssued(LedgerCreated):
    TOPIC = "certificate.associate_trainer_issued"
    certificate_id: str
    holder_id: str
    programme_id: str
    enrolment_id: str
    project_id: str
    weeks_attended: int

    def apply(self, cert: Qualification) -> None:
        cert.certificate_id = self.certificate_id
        cert.holder_id = self.holder_id
        cert.programme_id = self.programme_id
        cert.enrolment_id = self.enrolment_id
        cert.project_id = self.project_id
        cert.weeks_attended = self.weeks_attended
        cert.awarded_on = effective(self)
        cert.decisions = []
        cert.counted = []
        cert._decided(self)


@aggregate_type(QualificationIssued)
class Qualification(Certificate):
    TYPE_NAME = "Qualification"
    kind = Kind.ASSOCIATE_TRAINER
    if TYPE_CHECKING:
        programme_id: str
        enrolment_id: str
        project_id: str
        weeks_attended: int
        awarded_on: date


@event_type
class LicenceGranted(LedgerCreated):
    TOPIC = "certificate.licence_granted"
    certificate_id: str
    holder_id: str
    qualification_id: str
    programme_id: str
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    material_version: str
    valid_from: date
    valid_until: date
    courses: tuple[str, ...] = ()  # delivery ids counted (R5); absent from older records

    def apply(self, licence: Licence) -> None:
        licence.certificate_id = self.certificate_id
        licence.holder_id = self.holder_id
        licence.qualification_id = self.qualification_id
        licence.programme_id = self.programme_id
        licence.regions = tuple(self.regions)
        licence.languages = tuple(self.languages)
        licence.material_version = self.material_version
        licence.valid_from = self.valid_from
        licence.valid_until = self.valid_until
        licence.term_starts_on = self.valid_from
        licence.suspensions = []
        licence.revoked_on = None
        licence.revocation_reason = None
        licence.decisions = []
        licence.counted = []
        licence._decided(self)
        licence._counted("R5", "granted", self, self.courses)


@event_type
class LicenceRenewed(LedgerEvent):
    TOPIC = "certificate.licence_renewed"
    previous_until: date
    valid_until: date
    courses: tuple[str, ...] = ()  # delivery ids counted (R6); absent from older records

    def apply(self, licence: Licence) -> None:
        licence.term_starts_on = effective(self)
        licence.valid_until = self.valid_until
        licence._decided(self)
        licence._counted("R6", "renewed", self, self.courses)


@event_type
class LicenceSuspended(LedgerEvent):
    TOPIC = "certificate.licence_suspended"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str
    until: date

    def apply(self, licence: Licence) -> None:
        licence.suspensions.append(Suspension(effective(self), self.until, self.reason, None))
        licence._decided(self)


@event_type
class LicenceReinstated(LedgerEvent):
    TOPIC = "certificate.licence_reinstated"

    def apply(self, licence: Licence) -> None:
        current = licence.suspensions[-1]
        licence.suspensions[-1] = Suspension(
            current.starts_on, current.until, current.reason, effective(self)
        )
        licence._decided(self)


@event_type
class LicenceScopeReduced(LedgerEvent):
    TOPIC = "certificate.licence_scope_reduced"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    reason: str

    def apply(self, licence: Licence) -> None:
        licence.regions = tuple(self.regions)
        licence.languages = tuple(self.languages)
        licence._decided(self)


@event_type
class LicenceRevoked(LedgerEvent):
    TOPIC = "certificate.licence_revoked"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str

    def apply(self, licence: Licence) -> None:
        licence.revoked_on = effective(self)
        licence.revocation_reason = self.reason
        licence._decided(self)


@aggregate_type(LicenceGranted)
class Licence(Certificate):
    SHARED_ITEM_LISTS = ("decisions", "counted", "suspensions")

    TYPE_NAME = "Licence"
    kind = Kind.LICENCE
    if TYPE_CHECKING:
        qualification_id: str
        programme_id: str
        regions: tuple[str, ...]
        languages: tuple[str, ...]
        material_version: str
        valid_from: date
        valid_until: date
        term_starts_on: date
        suspensions: list[Suspension]
        revoked_on: date | None
        revocation_reason: str | None

    def status_on(self, day: date) -> str:
        """`valid`, `suspended`, `revoked`, `expired`, or `unknown` before it was granted."""
        status = _term_status(day, self.valid_from, self.valid_until, self.revoked_on)
        if status == "valid" and any(s.covers(day) for s in self.suspensions):
            return "suspended"
        return status

    def active_suspension(self, day: date) -> Suspension | None:
        return next((s for s in self.suspensions if s.covers(day)), None)


@event_type
class InstructorCertified(LedgerCreated):
    TOPIC = "certificate.instructor_certified"
    certificate_id: str
    holder_id: str
    licence_id: str
    valid_from: date
    valid_until: date
    programmes: tuple[str, ...] = ()  # full-programme delivery ids counted (R9); may be absent

    def apply(self, cert: InstructorCertification) -> None:
        cert.certificate_id = self.certificate_id
        cert.holder_id = self.holder_id
        cert.licence_id = self.licence_id
        cert.valid_from = self.valid_from
        cert.valid_until = self.valid_until
        cert.revoked_on = None
        cert.revocation_reason = None
        cert.decisions = []
        cert.counted = []
        cert._decided(self)
        cert._counted("R9", "certified", self, self.programmes)


@event_type
class InstructorRenewed(LedgerEvent):
    TOPIC = "certificate.instructor_renewed"
    valid_until: date
    programmes: tuple[str, ...] = ()  # full-programme delivery ids counted (R9); may be absent

    def apply(self, cert: InstructorCertification) -> None:
        cert.valid_until = self.valid_until
        cert._decided(self)
        cert._counted("R9", "renewed", self, self.programmes)


@event_type
class InstructorRevoked(LedgerEvent):
    TOPIC = "certificate.instructor_revoked"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str

    def apply(self, cert: InstructorCertification) -> None:
        cert.revoked_on = effective(self)
        cert.revocation_reason = self.reason
        cert._decided(self)


@aggregate_type(InstructorCertified)
class InstructorCertification(Certificate):
    TYPE_NAME = "InstructorCertification"
    kind = Kind.INSTRUCTOR
    if TYPE_CHECKING:
        licence_id: str
        valid_from: date
        valid_until: date
        revoked_on: date | None
        revocation_reason: str | None

    def status_on(self, day: date) -> str:
        """`valid`, `revoked`, `expired`, or `unknown` before it was granted."""
        return _term_status(day, self.valid_from, self.valid_until, self.revoked_on)
