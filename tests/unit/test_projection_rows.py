"""Rows that do not grow with a trainer's history: a course is a row of its own in the trainer
status and in the certificate register, so recording one writes the same few rows however many
the trainer has; and a view in memory finds a person's rows by index as a database view does."""

from __future__ import annotations

import json
from typing import Any

from projections import certificate_register, trainer_status
from projections.base import Event, MemoryView, Projection, Row, View, replay

PERSON = "00000000-0000-4000-8000-000000000001"


class _Counting(MemoryView):
    """A view in memory that counts the bytes of every row put."""

    def __init__(self) -> None:
        super().__init__()
        self.put_bytes: list[int] = []

    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None:
        self.put_bytes.append(len(json.dumps(row)))
        super().put(table, key, row, index)


def _record(position: int, stream: str, version: int, type_: str, on: str, **payload: Any) -> bytes:
    return json.dumps(
        {
            "stream": stream,
            "version": version,
            "type": type_,
            "recorded_at": f"{on}T09:00:00Z",
            "payload": {"effective_on": on, "actor": "registrar", **payload},
        }
    ).encode()


def _registered() -> bytes:
    return _record(0, PERSON, 1, "person.registered", "2014-01-01", region="Tyrol", country="AT")


def _course(version: int) -> bytes:
    return _record(
        version,
        PERSON,
        version,
        "person.course_delivered",
        "2014-02-01",
        delivery_id=f"d-{version}",
        region="Tyrol",
        participants=9,
        full_programme=version % 2 == 0,
        observed_by=None,
    )


def _apply(projection: Projection, view: View, records: list[bytes]) -> None:
    for position, data in enumerate(records):
        projection.apply(view, Event.from_record(position, data))


def test_recording_a_course_writes_as_much_for_the_thousandth_as_for_the_first() -> None:
    history = [_registered(), *(_course(v) for v in range(2, 1002))]
    for projection in (trainer_status.PROJECTION, certificate_register.PROJECTION):
        young = _Counting()
        _apply(projection, young, history[:2])
        first = sum(young.put_bytes)
        old = _Counting()
        _apply(projection, old, history)
        old.put_bytes.clear()
        projection.apply(old, Event.from_record(len(history), _course(1002)))
        # A few bytes more for longer numbers, not a thousand courses more.
        assert 0 < sum(old.put_bytes) <= first + 16, projection.name


def test_a_persons_courses_are_found_by_their_index_in_log_order() -> None:
    history = [_registered(), *(_course(v) for v in range(2, 12))]
    view = replay(trainer_status.PROJECTION, history)
    found = [row["position"] for _, row in view.rows("deliveries", PERSON)]
    assert found == list(range(1, 11))
    assert [key for key, _ in view.rows("deliveries", PERSON)] == [
        trainer_status.delivery_key(PERSON, p) for p in range(1, 11)
    ]
    assert list(view.rows("deliveries", "someone else")) == []


def test_the_index_of_a_view_in_memory_follows_puts_moves_and_deletes() -> None:
    view = MemoryView(hot=2)  # few rows kept parsed: most are read back from their JSON
    for n in range(6):
        view.put("t", f"k{n}", {"n": n}, index="even" if n % 2 == 0 else "odd")
    view.put("t", "k2", {"n": 2, "moved": True}, index="odd")  # to another index
    view.delete("t", "k4")
    view.put("t", "k5", {"n": 5})  # no index any more
    assert [(k, r["n"]) for k, r in view.rows("t", "even")] == [("k0", 0)]
    assert [(k, r["n"]) for k, r in view.rows("t", "odd")] == [("k1", 1), ("k2", 2), ("k3", 3)]
    # What `rows` gives is a copy: changing it changes nothing until it is put.
    for _, row in view.rows("t", "odd"):
        row["n"] = -1
    assert [r["n"] for _, r in view.rows("t", "odd")] == [1, 2, 3]
    assert [k for k, _ in view.rows("t")] == ["k0", "k1", "k2", "k3", "k5"]
