"""Appeals against committee decisions (R11)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    effective,
    event_type,
)


@event_type
class AppealLodged(LedgerCreated):
    TOPIC = "appeal.lodged"
    PERSONAL: ClassVar[tuple[str, ...]] = ("grounds",)
    certificate_id: str
    decision_version: int
    decision_type: str
    decided_by: str
    decided_on: date
    appellant_id: str
    grounds: str

    def apply(self, appeal: Appeal) -> None:
        appeal.certificate_id = self.certificate_id
        appeal.decision_version = self.decision_version
        appeal.decision_type = self.decision_type
        appeal.decided_by = self.decided_by
        appeal.decided_on = self.decided_on
        appeal.appellant_id = self.appellant_id
        appeal.lodged_by = self.actor
        appeal.grounds = self.grounds
        appeal.lodged_on = effective(self)
        appeal.outcome = None
        appeal.panel_member = None


@event_type
class AppealDecided(LedgerEvent):
    TOPIC = "appeal.decided"
    PERSONAL: ClassVar[tuple[str, ...]] = ("reasoning",)
    outcome: str
    reasoning: str

    def apply(self, appeal: Appeal) -> None:
        appeal.outcome = self.outcome
        appeal.panel_member = self.actor


@aggregate_type(AppealLodged)
class Appeal(LedgerAggregate):
    TYPE_NAME = "Appeal"
    if TYPE_CHECKING:
        certificate_id: str
        decision_version: int
        decision_type: str
        decided_by: str
        decided_on: date
        appellant_id: str
        lodged_by: str
        grounds: str
        lodged_on: date
        outcome: str | None
        panel_member: str | None
