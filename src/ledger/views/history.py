"""A trainer's history: every record of their own stream, their enrolments (attendance and
its corrections), their field project (sign-offs, returns, withdrawn sign-offs), their
certificates, and the same for every person merged into them, in log order.

Corrections carry a reason, which is personal: it is encrypted under the person it is about,
shown in plain text to staff only, and reads as `[erased]` once that person is erased.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.registry import EVENT_TYPES
from ledger.store.mapper import SigningMapper
from ledger.views.queries import Queries
from projections.base import Event

COMMON = ("actor", "role", "effective_on")
"""Members every record has, shown as entry fields rather than among the details."""


def streams_of(queries: Queries, person_id: str) -> dict[str, tuple[str, str]]:
    """The streams of a person's history, each with what it is and whose it is."""
    people = [person_id, *queries.merged_into(person_id)]
    streams: dict[str, tuple[str, str]] = {person: ("person", person) for person in people}
    for enrolment_id, row in queries.rows("programme_roster", "enrolments"):
        if row["person"] in people:
            streams[enrolment_id] = ("enrolment", row["person"])
            if row["project"]:
                streams.setdefault(row["project"], ("project", row["person"]))
    for certificate_id in queries.certificates_of(person_id):
        facts = queries.certificate_facts(certificate_id)
        if facts is not None:
            streams[facts["stream"]] = ("certificate", facts["holder"])
    return streams


def history(queries: Queries, person_id: str, *, staff: bool) -> dict[str, Any]:
    """The person's history in log order (records not yet in the log last); for staff, each
    reason in plain text."""
    streams = streams_of(queries, person_id)
    entries = []
    for event in queries.stream_events(list(streams)):
        subject, whose = streams[event.stream]
        entries.append(
            {
                "position": None if event.position < 0 else event.position,
                "stream": event.stream,
                "version": event.version,
                "type": event.type,
                "subject": subject,
                "person_id": whose,
                "recorded_at": event.recorded_at,
                "effective_on": event.payload.get("effective_on"),
                "actor": event.payload["actor"],
                "role": event.payload["role"],
                "details": details(event),
                **({"reason": reason(queries, event)} if staff else {}),
            }
        )
    entries.sort(key=lambda e: (e["position"] is None, e["position"] or 0))
    trainer = queries.trainer(person_id) or {}
    return {
        "person_id": person_id,
        "duplicate_of": trainer.get("duplicate_of"),
        "merged": queries.merged_into(person_id),
        "events": entries,
    }


def _personal(event: Event) -> tuple[str, ...]:
    cls = EVENT_TYPES.get(event.type)
    return tuple(getattr(cls, "PERSONAL", ()))


def details(event: Event) -> dict[str, Any]:
    """The record's members that are not personal (ids, weeks, dates, codes)."""
    hidden = {*COMMON, *_personal(event)}
    return {name: value for name, value in event.payload.items() if name not in hidden}


def reason(queries: Queries, event: Event) -> str | None:
    """The record's personal reason in plain text (None: it has none)."""
    if "reason" not in _personal(event):
        return None
    value = event.payload.get("reason")
    if value is None:
        return None
    if isinstance(value, str):
        return value  # written before free text was encrypted (docs/ledger-format.md 6)
    mapper = queries.store.app.mapper
    assert isinstance(mapper, SigningMapper)
    return mapper.reveal(event.stream, event.version, event.type, "reason", value)
