"""The baseline aggregate: the plain eventsourcing library, the same event shape, unsigned."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class Trainer(Aggregate):
    @event("Registered")
    def __init__(self, region: str, country: str) -> None:
        self.courses = 0

    @event("CourseDelivered")
    def deliver(
        self,
        delivery_id: str,
        region: str,
        participants: int,
        full_programme: bool,
        observed_by: str | None,
        actor: str,
        role: str,
        effective_on: str | None,
    ) -> None:
        self.courses += 1
