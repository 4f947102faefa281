"""Trainer status: each person's qualifications, licences, instructor certifications and
courses delivered (no personal data: names are read from the person's own record when shown).

Each course is a row of its own in `deliveries`, under the person and its log position and
indexed by the person, so recording a course costs the same however many the trainer has.
A retracted course stays, marked with the position and date of its retraction, so the history
shows both. A person marked as the duplicate of another is read as that person: the kept
person takes in the duplicate's certificates and courses, and anything recorded for the
duplicate later also reaches the kept person (the duplicate's `duplicate_of` leads there,
through every merge that followed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from projections.base import Event, Projection, Row, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store

NAME = "trainer_status"

DELIVERIES = "deliveries"


def delivery_key(person: str, position: int) -> str:
    """A course's key in `deliveries`: the person's, then its log position (12 digits, so the
    keys of a person sort in log order)."""
    return f"{person}/{position:012d}"


def _person(view: View, event: Event) -> None:
    view.put(
        "trainers",
        event.stream,
        {
            "region": event.payload["region"],
            "country": event.payload["country"],
            "registered": event.position,
            "certificates": [],
            "erased": False,
            "duplicate_of": None,
            "merged": [],
        },
    )


def _chain(view: View, person: str) -> Iterator[tuple[str, Row]]:
    """The person's row, then the row of the person it is a duplicate of, and so on: every
    row that reads the person's records as its own (each once, should the records loop)."""
    seen: set[str] = set()
    key: Any = person
    while isinstance(key, str) and key not in seen:
        row = view.get("trainers", key)
        if row is None:
            return
        seen.add(key)
        yield key, row
        key = row["duplicate_of"]


def _course(view: View, event: Event) -> None:
    p = event.payload
    delivery = {
        "on": event.effective_on,
        "position": event.position,
        "full_programme": bool(p["full_programme"]),
        "delivery_id": p["delivery_id"],
        "retracted_at": None,
        "retracted_on": None,
    }
    for key, _ in _chain(view, event.stream):
        view.put(DELIVERIES, delivery_key(key, event.position), dict(delivery), index=key)


def _retracted(view: View, event: Event) -> None:
    for key, _ in _chain(view, event.stream):
        for place, delivery in view.rows(DELIVERIES, key):
            if (
                delivery["delivery_id"] == event.payload["delivery_id"]
                and delivery["retracted_at"] is None
            ):
                delivery["retracted_at"] = event.position
                delivery["retracted_on"] = event.effective_on
                view.put(DELIVERIES, place, delivery, index=key)


def _marked_duplicate(view: View, event: Event) -> None:
    duplicate = view.get("trainers", event.stream)
    if duplicate is None:
        return
    kept_id = event.payload["duplicate_of"]
    duplicate["duplicate_of"] = kept_id
    view.put("trainers", event.stream, duplicate)
    for key, kept in _chain(view, kept_id):
        if key == event.stream:
            continue
        _take_in(view, key, kept, event.stream, duplicate)
        view.put("trainers", key, kept)


def _take_in(view: View, key: str, kept: Row, duplicate_id: str, duplicate: Row) -> None:
    """The kept person's row takes in the duplicate, the people merged into the duplicate
    before and their certificates; the kept person takes in the duplicate's courses it does
    not hold (by log position)."""
    for person in [duplicate_id, *duplicate["merged"]]:
        if person not in kept["merged"]:
            kept["merged"].append(person)
    for certificate in duplicate["certificates"]:
        if certificate not in kept["certificates"]:
            kept["certificates"].append(certificate)
    for _, delivery in view.rows(DELIVERIES, duplicate_id):
        place = delivery_key(key, delivery["position"])
        if view.get(DELIVERIES, place) is None:
            view.put(DELIVERIES, place, delivery, index=key)


def _erased(view: View, event: Event) -> None:
    row = view.get("trainers", event.stream)
    if row is not None:
        row["erased"] = True
        view.put("trainers", event.stream, row)


def _issued(view: View, event: Event) -> None:
    facts = issue(event)
    store(view, facts, facts["holder"])
    for key, row in _chain(view, facts["holder"]):
        if facts["certificate_id"] not in row["certificates"]:
            row["certificates"].append(facts["certificate_id"])
            view.put("trainers", key, row)


PROJECTION = Projection(
    name=NAME,
    version=3,
    handlers={
        "person.registered": _person,
        "person.course_delivered": _course,
        "person.course_retracted": _retracted,
        "person.marked_duplicate": _marked_duplicate,
        "person.personal_data_erased": _erased,
        "certificate.associate_trainer_issued": _issued,
        "certificate.licence_granted": _issued,
        "certificate.instructor_certified": _issued,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["holder"])),
    },
)
