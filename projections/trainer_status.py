"""Trainer status: each person's qualifications, licences, instructor certifications and
courses delivered (no personal data: names are read from the person's own record when shown)."""

from __future__ import annotations

from projections.base import Event, Projection, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store

NAME = "trainer_status"


def _person(view: View, event: Event) -> None:
    view.put(
        "trainers",
        event.stream,
        {
            "region": event.payload["region"],
            "country": event.payload["country"],
            "registered": event.position,
            "certificates": [],
            "deliveries": [],
            "erased": False,
        },
    )


def _update(view: View, person: str, change: dict) -> None:  # type: ignore[type-arg]
    row = view.get("trainers", person)
    if row is not None:
        row.update(change)
        view.put("trainers", person, row)


def _course(view: View, event: Event) -> None:
    row = view.get("trainers", event.stream)
    if row is not None:
        row["deliveries"].append(
            [event.effective_on, event.position, bool(event.payload["full_programme"])]
        )
        view.put("trainers", event.stream, row)


def _erased(view: View, event: Event) -> None:
    _update(view, event.stream, {"erased": True})


def _issued(view: View, event: Event) -> None:
    facts = issue(event)
    store(view, facts, facts["holder"])
    row = view.get("trainers", facts["holder"])
    if row is not None:
        row["certificates"].append(facts["certificate_id"])
        view.put("trainers", facts["holder"], row)


PROJECTION = Projection(
    name=NAME,
    version=1,
    handlers={
        "person.registered": _person,
        "person.course_delivered": _course,
        "person.personal_data_erased": _erased,
        "certificate.associate_trainer_issued": _issued,
        "certificate.licence_granted": _issued,
        "certificate.instructor_certified": _issued,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["holder"])),
    },
)
