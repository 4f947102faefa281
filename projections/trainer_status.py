"""Trainer status: each person's qualifications, licences, instructor certifications and
courses delivered (no personal data: names are read from the person's own record when shown).

A retracted course stays among the courses, marked with the position and date of its
retraction, so the history shows both. Courses are kept in blocks (projections.courses). A
person marked as the duplicate of another is read as that person: the kept person's row takes
in the duplicate's certificates and courses, and anything recorded for the duplicate later also
reaches the kept person's row (the duplicate's `duplicate_of` leads there, through every merge
that followed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from projections import courses
from projections.base import Event, Projection, Row, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store

NAME = "trainer_status"

# A delivery: [on, position, full_programme, delivery_id, retracted at position, retracted on].
POSITION, DELIVERY_ID, RETRACTED_AT, RETRACTED_ON = 1, 3, 4, 5


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
            "blocks": 0,
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
    delivery = [
        event.effective_on,
        event.position,
        bool(p["full_programme"]),
        p["delivery_id"],
        None,
        None,
    ]
    row = view.get("trainers", event.stream)
    if row is not None and row["duplicate_of"] is None:  # the person's own row alone
        courses.append(view, event.stream, row, delivery)
        view.put("trainers", event.stream, row)
        return
    for key, row in _chain(view, event.stream):
        courses.append(view, key, row, list(delivery))
        view.put("trainers", key, row)


def _retracted(view: View, event: Event) -> None:
    delivery_id = event.payload["delivery_id"]

    def mark(deliveries: list[list[Any]]) -> bool:
        marked = False
        for delivery in deliveries:
            if delivery[DELIVERY_ID] == delivery_id and delivery[RETRACTED_AT] is None:
                delivery[RETRACTED_AT] = event.position
                delivery[RETRACTED_ON] = event.effective_on
                marked = True
        return marked

    for key, row in _chain(view, event.stream):
        courses.change(view, key, row, mark)
        view.put("trainers", key, row)


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


def _take_in(view: View, kept_id: str, kept: Row, duplicate_id: str, duplicate: Row) -> None:
    """The kept person's row takes in the duplicate, the people merged into the duplicate
    before, their certificates, and their courses in log order."""
    for person in [duplicate_id, *duplicate["merged"]]:
        if person not in kept["merged"]:
            kept["merged"].append(person)
    for certificate in duplicate["certificates"]:
        if certificate not in kept["certificates"]:
            kept["certificates"].append(certificate)
    own = courses.every(view, kept_id, kept)
    held = {delivery[POSITION] for delivery in own}
    taken = [
        list(d) for d in courses.every(view, duplicate_id, duplicate) if d[POSITION] not in held
    ]
    courses.replace(view, kept_id, kept, sorted(own + taken, key=lambda d: d[POSITION]))


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
    version=4,
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
