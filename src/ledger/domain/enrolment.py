"""A person's enrolment in a programme: attendance, project, qualification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    derived_id,
    event_type,
)
from ledger.domain.values import Value


def enrolment_id(programme_id: UUID, person_id: UUID) -> UUID:
    """One enrolment per person and programme (R4 'once per person and programme')."""
    return derived_id("enrolment", str(programme_id), str(person_id))


@dataclass(frozen=True)
class Attendance(Value):
    attended: bool
    recorded_by: str


@event_type
class Enrolled(LedgerCreated):
    TOPIC = "enrolment.enrolled"
    programme_id: str
    person_id: str
    consortium: str | None

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.programme_id = self.programme_id
        enrolment.person_id = self.person_id
        enrolment.consortium = self.consortium
        enrolment.active = True
        enrolment.attendance = {}
        enrolment.project_id = None
        enrolment.certificate_id = None


@event_type
class AttendanceRecorded(LedgerEvent):
    TOPIC = "enrolment.attendance_recorded"
    week: int
    attended: bool
    correction: bool

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.attendance[self.week] = Attendance(self.attended, self.actor)


@event_type
class AttendanceCorrected(LedgerEvent):
    """A week's attendance recorded wrongly, set right with a reason (encrypted under the
    enrolled person). Valid from the week's start, as the record it corrects."""

    TOPIC = "enrolment.attendance_corrected"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    week: int
    attended: bool
    reason: str

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.attendance[self.week] = Attendance(self.attended, self.actor)


@event_type
class JoinedProject(LedgerEvent):
    TOPIC = "enrolment.joined_project"
    project_id: str

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.project_id = self.project_id


@event_type
class EnrolmentWithdrawn(LedgerEvent):
    TOPIC = "enrolment.withdrawn"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.active = False


@event_type
class QualificationAwarded(LedgerEvent):
    TOPIC = "enrolment.qualification_awarded"
    certificate_id: str

    def apply(self, enrolment: Enrolment) -> None:
        enrolment.certificate_id = self.certificate_id


@aggregate_type(Enrolled)
class Enrolment(LedgerAggregate):
    TYPE_NAME = "Enrolment"
    if TYPE_CHECKING:
        programme_id: str
        person_id: str
        consortium: str | None
        active: bool
        attendance: dict[int, Attendance]
        project_id: str | None
        certificate_id: str | None

    @property
    def weeks_attended(self) -> int:
        return sum(1 for entry in self.attendance.values() if entry.attended)

    @property
    def attendance_recorders(self) -> set[str]:
        return {entry.recorded_by for entry in self.attendance.values()}
