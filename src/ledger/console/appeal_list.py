"""Appeals, open and decided, read from their own signed records.

No projection keeps appeals: they are few (R11 allows one only within 30 days of a decision),
so the list is read from the store itself: the appeal streams are those that begin with an
`appeal.lodged` record, and each appeal is its records folded in log order. Grounds and the
panel's reasoning are personal (encrypted under the appellant): they are decrypted only for
the one appeal a page shows, and read as `[erased]` once the appellant is erased.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from ledger.store.mapper import SigningMapper
from ledger.views.queries import Queries
from projections.base import Event

LODGED, DECIDED = "appeal.lodged", "appeal.decided"
PAGE = 500


@dataclass(frozen=True)
class AppealEntry:
    """One appeal as staff see it: the decision appealed, who lodged it, and the panel's
    outcome once decided (dates are ISO, positions are log positions, None before sequencing)."""

    appeal_id: str
    certificate_id: str
    decision_version: int
    decision_type: str
    decided_by: str
    decided_on: str
    appellant_id: str
    lodged_by: str
    lodged_role: str
    lodged_on: str
    lodged_at: int | None
    outcome: str | None = None
    panel_member: str | None = None
    settled_on: str | None = None
    settled_at: int | None = None
    grounds: str | None = None
    reasoning: str | None = None

    @property
    def open(self) -> bool:
        return self.outcome is None


def appeal_streams(queries: Queries) -> list[str]:
    """The stream of every appeal, in the order they were lodged."""
    recorder: Any = queries.store.app.recorder
    found: list[str] = []
    start = 1
    while True:
        chunk = recorder.select_notifications(start, PAGE, topics=(LODGED,))
        found.extend(str(UUID(str(n.originator_id))) for n in chunk)
        if len(chunk) < PAGE:
            return found
        start = chunk[-1].id + 1


def appeals(queries: Queries, certificate_id: str | None = None) -> list[AppealEntry]:
    """Every appeal (or those against decisions on `certificate_id`), newest first; grounds
    and reasoning are left out."""
    entries = _fold(queries, appeal_streams(queries), reveal=False)
    if certificate_id is not None:
        entries = [e for e in entries if e.certificate_id == certificate_id]
    return sorted(entries, key=lambda e: (e.lodged_on, e.appeal_id), reverse=True)


def appeal(queries: Queries, appeal_id: str) -> AppealEntry | None:
    """One appeal with its grounds and the panel's reasoning in plain text (None: no such
    appeal)."""
    try:
        stream = str(UUID(appeal_id))
    except ValueError:
        return None
    found = _fold(queries, [stream], reveal=True)
    return found[0] if found else None


def _fold(queries: Queries, streams: list[str], *, reveal: bool) -> list[AppealEntry]:
    if not streams:
        return []
    lodged: dict[str, Event] = {}
    decided: dict[str, Event] = {}
    for event in queries.stream_events(streams):
        if event.type == LODGED:
            lodged[event.stream] = event
        elif event.type == DECIDED:
            decided[event.stream] = event
    entries = []
    for stream, event in lodged.items():
        p = event.payload
        entry = AppealEntry(
            appeal_id=stream,
            certificate_id=str(p["certificate_id"]),
            decision_version=int(p["decision_version"]),
            decision_type=str(p["decision_type"]),
            decided_by=str(p["decided_by"]),
            decided_on=str(p["decided_on"]),
            appellant_id=str(p["appellant_id"]),
            lodged_by=str(p["actor"]),
            lodged_role=str(p["role"]),
            lodged_on=event.effective_on,
            lodged_at=_position(event),
            grounds=_plain(queries, event, "grounds") if reveal else None,
        )
        outcome = decided.get(stream)
        if outcome is not None:
            entry = replace(
                entry,
                outcome=str(outcome.payload["outcome"]),
                panel_member=str(outcome.payload["actor"]),
                settled_on=outcome.effective_on,
                settled_at=_position(outcome),
                reasoning=_plain(queries, outcome, "reasoning") if reveal else None,
            )
        entries.append(entry)
    return entries


def _position(event: Event) -> int | None:
    return None if event.position < 0 else event.position


def _plain(queries: Queries, event: Event, name: str) -> str | None:
    value = event.payload.get(name)
    if value is None or isinstance(value, str):
        return value
    mapper = queries.store.app.mapper
    assert isinstance(mapper, SigningMapper)
    return mapper.reveal(event.stream, event.version, event.type, name, value)
