"""Copying a cached aggregate for a command: lists of frozen values get new lists, shared items."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from uuid import uuid4

from ledger.domain.actors import Actor, Role
from ledger.domain.person import CourseDelivered, Person, PersonRegistered

REGISTRAR = Actor("registrar-ana", Role.REGISTRAR)
AT = datetime(2020, 1, 1, tzinfo=UTC)


def person_with_courses(count: int) -> Person:
    person = Person.start(
        PersonRegistered,
        uuid4(),
        REGISTRAR,
        AT,
        name="Ada Example",
        email="ada@example.org",
        organisation="O",
        region="R",
        country="C",
    )
    for n in range(count):
        person.record(
            CourseDelivered,
            REGISTRAR,
            AT,
            date(2019, 1, 1),
            delivery_id=f"d{n}",
            region="R",
            participants=10,
            full_programme=False,
            observed_by=None,
        )
    return person


def test_a_copy_has_its_own_list_of_shared_frozen_deliveries() -> None:
    original = person_with_courses(3)
    clone = copy.deepcopy(original)
    assert clone is not original
    assert clone.deliveries == original.deliveries
    assert clone.deliveries is not original.deliveries
    assert all(a is b for a, b in zip(clone.deliveries, original.deliveries, strict=True))
    clone.record(
        CourseDelivered,
        REGISTRAR,
        AT,
        date(2019, 2, 1),
        delivery_id="d-new",
        region="R",
        participants=5,
        full_programme=True,
        observed_by=None,
    )
    assert len(clone.deliveries) == 4
    assert len(original.deliveries) == 3
    assert clone.version == original.version + 1


def test_other_state_is_copied_deeply() -> None:
    original = person_with_courses(1)
    original.collect_events()
    clone = copy.deepcopy(original)
    clone.name = "Changed"
    assert original.name == "Ada Example"
    assert clone.id == original.id
    assert clone.collect_events() == []
