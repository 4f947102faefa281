"""The public register: certificates of holders who opted in, by region and kind.

Rows keep the facts; whether a certificate is valid is decided on the day it is read (expiry is
derived from time), and only then is it listed."""

from __future__ import annotations

from projections.base import Event, Projection, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store

NAME = "public_register"


def _person(view: View, event: Event) -> None:
    view.put(
        "holders",
        event.stream,
        {
            "region": event.payload["region"],
            "country": event.payload["country"],
            "listed": False,
            "name_hidden": False,
        },
    )


def _holder_change(view: View, event: Event) -> None:
    row = view.get("holders", event.stream)
    if row is None:
        return
    if event.type == "person.public_listing_changed":
        row["listed"] = event.payload["listed"]
    elif event.type == "person.name_publication_changed":
        row["name_hidden"] = event.payload["hidden"]
    elif event.type == "person.personal_data_erased":
        row.update(listed=False, erased=True)
    view.put("holders", event.stream, row)


def _issued(view: View, event: Event) -> None:
    facts = issue(event)
    holder = view.get("holders", facts["holder"]) or {"region": "", "country": ""}
    facts["region"], facts["country"] = holder["region"], holder["country"]
    store(view, facts, holder["region"])


PROJECTION = Projection(
    name=NAME,
    version=1,
    handlers={
        "person.registered": _person,
        "person.public_listing_changed": _holder_change,
        "person.name_publication_changed": _holder_change,
        "person.personal_data_erased": _holder_change,
        "certificate.associate_trainer_issued": _issued,
        "certificate.licence_granted": _issued,
        "certificate.instructor_certified": _issued,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["region"])),
    },
)
