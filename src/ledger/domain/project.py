"""Field projects: a team applying the methodology to a real cluster initiative, with a tutor."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    event_type,
)


@event_type
class ProjectRegistered(LedgerCreated):
    TOPIC = "project.registered"
    programme_id: str
    cluster_initiative: str
    sector: str
    region: str
    country: str

    def apply(self, project: FieldProject) -> None:
        project.programme_id = self.programme_id
        project.cluster_initiative = self.cluster_initiative
        project.sector = self.sector
        project.region = self.region
        project.country = self.country
        project.members = []
        project.tutor_id = None
        project.status = "open"
        project.signed_off_by = None
        project.signed_off_on = None
        project.returned_on = None


@event_type
class TeamMemberAssigned(LedgerEvent):
    TOPIC = "project.team_member_assigned"
    person_id: str

    def apply(self, project: FieldProject) -> None:
        project.members.append(self.person_id)


@event_type
class TutorAssigned(LedgerEvent):
    TOPIC = "project.tutor_assigned"
    person_id: str

    def apply(self, project: FieldProject) -> None:
        project.tutor_id = self.person_id


@event_type
class ProjectSignedOff(LedgerEvent):
    TOPIC = "project.signed_off"
    PERSONAL: ClassVar[tuple[str, ...]] = ("note",)
    note: str

    def apply(self, project: FieldProject) -> None:
        project.status = "signed_off"
        project.signed_off_by = self.actor
        project.signed_off_on = self.effective_on or self.timestamp.date()


@event_type
class ProjectReturned(LedgerEvent):
    TOPIC = "project.returned_for_rework"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str

    def apply(self, project: FieldProject) -> None:
        project.status = "returned_for_rework"
        project.signed_off_by = None
        project.signed_off_on = None
        project.returned_on = self.effective_on or self.timestamp.date()


@event_type
class SignOffWithdrawn(LedgerEvent):
    """A sign-off given by mistake, withdrawn before any qualification relied on it: the
    project is open again. `reason` is encrypted under the project's tutor."""

    TOPIC = "project.sign_off_withdrawn"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reason",)
    reason: str

    def apply(self, project: FieldProject) -> None:
        project.status = "open"
        project.signed_off_by = None
        project.signed_off_on = None


@aggregate_type(ProjectRegistered)
class FieldProject(LedgerAggregate):
    TYPE_NAME = "FieldProject"
    if TYPE_CHECKING:
        programme_id: str
        cluster_initiative: str
        sector: str
        region: str
        country: str
        members: list[str]
        tutor_id: str | None
        status: str
        signed_off_by: str | None
        signed_off_on: date | None
        returned_on: date | None
