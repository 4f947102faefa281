"""What every projection is made of: a name, a version, handlers per event type, its own tables,
and a content digest that depends only on its rows.

Projections never see personal data: handlers read the non-personal members of event payloads
(personal fields are encrypted in the records and stay so), so anyone holding the records can
rebuild every projection and compare digests, and erasing a person needs no purge here.

This module imports no framework and no database: the runner supplies a `View` backed by SQLite
or PostgreSQL, the auditor one backed by memory; the same handler code runs on both.
"""

from __future__ import annotations

import gc
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One record as projections see it: its log position and its non-personal content."""

    position: int
    stream: str
    version: int
    type: str
    recorded_at: str
    payload: Mapping[str, Any]

    @property
    def effective_on(self) -> str:
        """The valid date: the payload's `effective_on`, else the date it was recorded."""
        return str(self.payload.get("effective_on") or self.recorded_at[:10])

    @classmethod
    def from_record(cls, position: int, data: bytes) -> Event:
        members = json.loads(data)
        return cls(
            position=position,
            stream=members["stream"],
            version=members["version"],
            type=members["type"],
            recorded_at=members["recorded_at"],
            payload=members["payload"],
        )


class View(ABC):
    """A projection's tables: rows of JSON objects under (table, key), with an optional index."""

    @abstractmethod
    def get(self, table: str, key: str) -> Row | None: ...

    @abstractmethod
    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None: ...

    @abstractmethod
    def delete(self, table: str, key: str) -> None: ...

    @abstractmethod
    def rows(self, table: str, index: str | None = None) -> Iterator[tuple[str, Row]]:
        """Rows of `table` (only those with `index`, when given), ordered by key."""

    @abstractmethod
    def all_rows(self) -> Iterator[tuple[str, str, str]]:
        """(table, key, canonical JSON of the row) for every row, ordered by table then key."""


Handler = Callable[[View, Event], None]


@dataclass(frozen=True)
class Projection:
    name: str
    version: int
    handlers: Mapping[str, Handler]

    def apply(self, view: View, event: Event) -> None:
        handler = self.handlers.get(event.type)
        if handler is not None:
            handler(view, event)


class Dispatch:
    """Several projections, each with its own view, applying each event: the handlers for a
    type are looked up once per type, and only the projections that handle it are called."""

    def __init__(self, pairs: Iterable[tuple[Projection, View]]) -> None:
        self._pairs = list(pairs)
        self._by_type: dict[str, list[tuple[Handler, View]]] = {}

    def apply(self, event: Event) -> None:
        targets = self._by_type.get(event.type)
        if targets is None:
            targets = self._by_type[event.type] = [
                (projection.handlers[event.type], view)
                for projection, view in self._pairs
                if event.type in projection.handlers
            ]
        for handler, view in targets:
            handler(view, event)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _c_encoder() -> Callable[[Any, int], Iterable[str]] | None:
    """The C encoder `json.dumps` builds for these options on every call, built once (rows hold
    no cycles, so without the circular-reference check); None without the C accelerator."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    encoder: Callable[[Any, int], Iterable[str]] = make(
        None, _CANONICAL.default, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )
    return encoder


_encode_row = _c_encoder()


def row_json(row: Row) -> str:
    """Rows are stored as canonical JSON (sorted keys, no spaces): the digest's bytes."""
    if _encode_row is None:
        return _CANONICAL.encode(row)
    return "".join(_encode_row(row, 0))


def digest(view: View) -> str:
    """SHA-256 over every row as `table \\t key \\t json \\n`, ordered by table and key."""
    hasher = hashlib.sha256()
    lines: list[str] = []
    for table, key, data in view.all_rows():
        lines.append(f"{table}\t{key}\t{data}\n")
        if len(lines) >= 4096:  # hashed a few thousand lines at a time: the same bytes
            hasher.update("".join(lines).encode())
            lines.clear()
    hasher.update("".join(lines).encode())
    return hasher.hexdigest()


class MemoryView(View):
    """A view in memory: for replays (audits, rebuild checks).

    Rows are kept as their canonical JSON (the digest's bytes), which stays compact however long
    the history; the rows in use are kept as the dicts handlers put (every handler puts what it
    changes), so a replay parses and writes a row once per stretch of use rather than once per
    event. Rows in use are those read or put since the last `hot` others were: the newest in
    `_young`, the ones before in `_old`. When `_young` fills, what is left in `_old` is written
    as JSON and `_young` becomes `_old` (a row read from `_old` moves back to `_young`).
    """

    def __init__(self, hot: int = 4096) -> None:
        self.tables: dict[str, dict[str, tuple[str, str | None]]] = {}
        self._young: dict[tuple[str, str], tuple[Row, str | None]] = {}
        self._old: dict[tuple[str, str], tuple[Row, str | None]] = {}
        self._limit = hot

    def _age(self) -> None:
        young = self._young
        self._write(self._old, young)
        self._old = young
        self._young = {}

    def _write(
        self, rows: dict[tuple[str, str], tuple[Row, str | None]], newer: Container[tuple[str, str]]
    ) -> None:
        """Keep `rows` as JSON, but those `newer` holds (put again since: the newer row is the
        row)."""
        tables = self.tables
        for place, (row, index) in rows.items():
            if place in newer:
                continue
            table, key = place
            cold = tables.get(table)
            if cold is None:
                cold = tables[table] = {}
            cold[key] = (row_json(row), index)

    def _flush(self) -> None:
        self._write(self._old, self._young)
        self._write(self._young, ())

    def get(self, table: str, key: str) -> Row | None:
        place = (table, key)
        young = self._young
        hot = young.get(place)
        if hot is not None:
            return hot[0]
        hot = self._old.pop(place, None)
        if hot is None:
            cold = self.tables.get(table, {}).get(key)
            if cold is None:
                return None
            hot = (json.loads(cold[0]), cold[1])
        young[place] = hot
        if len(young) > self._limit:
            self._age()
        return hot[0]

    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None:
        young = self._young
        young[(table, key)] = (row, index)
        if len(young) > self._limit:
            self._age()

    def delete(self, table: str, key: str) -> None:
        self._young.pop((table, key), None)
        self._old.pop((table, key), None)
        self.tables.get(table, {}).pop(key, None)

    def rows(self, table: str, index: str | None = None) -> Iterator[tuple[str, Row]]:
        self._flush()
        for key, (data, row_index) in sorted(self.tables.get(table, {}).items()):
            if index is None or row_index == index:
                yield key, json.loads(data)

    def all_rows(self) -> Iterator[tuple[str, str, str]]:
        self._flush()
        for table in sorted(self.tables):
            for key, (data, _) in sorted(self.tables[table].items()):
                yield table, key, data

    def stored_rows(self) -> list[tuple[str, str, str, str | None]]:
        """Every row as a database view stores it: (table, key, canonical JSON, index)."""
        self._flush()
        return [
            (table, key, data, index)
            for table, rows in self.tables.items()
            for key, (data, index) in rows.items()
        ]


def replay(projection: Projection, records: Iterable[bytes]) -> MemoryView:
    view = MemoryView()
    for position, data in enumerate(records):
        projection.apply(view, Event.from_record(position, data))
    return view


def replay_views(
    projections: Iterable[Projection], records: Iterable[bytes]
) -> tuple[int, list[MemoryView]]:
    """Build every projection in memory from the records alone, in one pass: the number of
    records and each projection's view, in the order given."""
    views = [(projection, MemoryView()) for projection in projections]
    apply = Dispatch(views).apply
    count = 0
    with no_cycle_collection():
        for position, data in enumerate(records):
            apply(Event.from_record(position, data))
            count = position + 1
    return count, [view for _, view in views]


def replay_all(projections: Iterable[Projection], records: Iterable[bytes]) -> dict[str, str]:
    """Rebuild every projection in memory from the records alone; their digests by name."""
    chosen = list(projections)
    _, views = replay_views(chosen, records)
    with no_cycle_collection():
        return {
            projection.name: digest(view) for projection, view in zip(chosen, views, strict=True)
        }


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Replays make millions of short-lived objects and keep many rows alive: the cyclic
    collector would walk the live rows again and again. Rows and events hold no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
