"""Certificate facts folded from events, and the status they give on a date.

Status is derived from time, never written: a licence whose valid-until has passed reads as
expired on any later date without anyone recording anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from projections.base import Event, Row, View

KIND_OF_TYPE = {
    "certificate.associate_trainer_issued": "associate_trainer",
    "certificate.licence_granted": "licence",
    "certificate.instructor_certified": "instructor",
}


def issue(event: Event) -> Row:
    """The facts of a certificate from the event that issued it."""
    p = event.payload
    kind = KIND_OF_TYPE[event.type]
    facts: Row = {
        "certificate_id": p["certificate_id"],
        "kind": kind,
        "holder": p["holder_id"],
        "stream": event.stream,
        "issued_on": event.effective_on,
        "valid_from": p.get("valid_from") or event.effective_on,
        "valid_until": p.get("valid_until"),
        "scope": None,
        "suspensions": [],
        "revoked_on": None,
        "revocation_reason": None,
        "decided_by": p["actor"],
        "events": [[event.version, event.position, event.type, event.effective_on]],
    }
    if kind == "licence":
        facts["scope"] = {
            "regions": list(p["regions"]),
            "languages": list(p["languages"]),
            "material_version": p["material_version"],
        }
    return facts


def fold(facts: Row, event: Event) -> Row:
    """Apply a later decision on the certificate's stream to its facts."""
    p, on = event.payload, event.effective_on
    kind = event.type
    if kind in ("certificate.licence_renewed", "certificate.instructor_renewed"):
        facts["valid_until"] = p["valid_until"]
    elif kind == "certificate.licence_suspended":
        facts["suspensions"].append(
            {"from": on, "until": p["until"], "reason": p["reason"], "ended_on": None}
        )
    elif kind == "certificate.licence_reinstated":
        if facts["suspensions"]:
            facts["suspensions"][-1]["ended_on"] = on
    elif kind == "certificate.licence_scope_reduced":
        facts["scope"] = {
            **facts["scope"],
            "regions": list(p["regions"]),
            "languages": list(p["languages"]),
        }
    elif kind in ("certificate.licence_revoked", "certificate.instructor_revoked"):
        facts["revoked_on"] = on
        facts["revocation_reason"] = p["reason"]
    facts["events"].append([event.version, event.position, event.type, on])
    return facts


def status_on(facts: Row, day: date) -> dict[str, Any]:
    """`valid`, `expired`, `suspended`, `revoked`, or `unknown` (not yet issued) on `day`,
    with since when and why."""
    text = day.isoformat()
    if facts["revoked_on"] is not None and text >= facts["revoked_on"]:
        return _status("revoked", facts["revoked_on"], facts["revocation_reason"])
    if text < facts["valid_from"]:
        return _status("unknown", None, "not yet issued on that date")
    until = facts["valid_until"]
    if until is not None and text > until:
        since = (date.fromisoformat(until) + timedelta(days=1)).isoformat()
        return _status("expired", since, None)
    for suspension in facts["suspensions"]:
        end = suspension["ended_on"] or suspension["until"]
        if suspension["from"] <= text < end:
            return _status("suspended", suspension["from"], suspension["reason"], end)
    return _status("valid", facts["valid_from"], None)


def _status(
    status: str, since: str | None, reason: str | None, until: str | None = None
) -> dict[str, Any]:
    return {"status": status, "since": since, "reason": reason, "until": until}


DECISION_TYPES = (
    "certificate.licence_renewed",
    "certificate.licence_suspended",
    "certificate.licence_reinstated",
    "certificate.licence_scope_reduced",
    "certificate.licence_revoked",
    "certificate.instructor_renewed",
    "certificate.instructor_revoked",
)


def store(view: View, facts: Row, index: str | None) -> None:
    """Keep a certificate's facts, and which certificate its stream is."""
    view.put("certificates", facts["certificate_id"], facts, index=index)
    view.put("streams", facts["stream"], {"certificate_id": facts["certificate_id"]})


def decision_handler(index_of: Callable[[Row], str | None]) -> Callable[[View, Event], None]:
    """A handler folding a later decision into the facts of the certificate on its stream."""

    def handle(view: View, event: Event) -> None:
        link = view.get("streams", event.stream)
        facts = None if link is None else view.get("certificates", link["certificate_id"])
        if facts is not None:
            folded = fold(facts, event)
            view.put("certificates", folded["certificate_id"], folded, index=index_of(folded))

    return handle
