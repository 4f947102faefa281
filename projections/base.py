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
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
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


def row_json(row: Row) -> str:
    """Rows are stored as canonical JSON (sorted keys, no spaces): the digest's bytes."""
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(view: View) -> str:
    """SHA-256 over every row as `table \\t key \\t json \\n`, ordered by table and key."""
    hasher = hashlib.sha256()
    for table, key, data in view.all_rows():
        hasher.update(f"{table}\t{key}\t{data}\n".encode())
    return hasher.hexdigest()


class MemoryView(View):
    """A view in memory: for replays (audits, rebuild checks).

    Rows are kept as their canonical JSON (the digest's bytes), which stays compact however long
    the history; the rows in use, up to `hot`, are kept as the dicts handlers put (every handler
    puts what it changes), so a replay parses and writes a row once per stretch of use rather
    than once per event.
    """

    def __init__(self, hot: int = 4096) -> None:
        self.tables: dict[str, dict[str, tuple[str, str | None]]] = {}
        self._hot: OrderedDict[tuple[str, str], tuple[Row, str | None]] = OrderedDict()
        self._limit = hot

    def _keep(self, table: str, key: str, row: Row, index: str | None) -> None:
        self._hot[(table, key)] = (row, index)
        self._hot.move_to_end((table, key))
        if len(self._hot) > self._limit:
            (old_table, old_key), (old_row, old_index) = self._hot.popitem(last=False)
            self.tables.setdefault(old_table, {})[old_key] = (row_json(old_row), old_index)

    def _flush(self) -> None:
        for (table, key), (row, index) in self._hot.items():
            self.tables.setdefault(table, {})[key] = (row_json(row), index)

    def get(self, table: str, key: str) -> Row | None:
        hot = self._hot.get((table, key))
        if hot is not None:
            self._hot.move_to_end((table, key))
            return hot[0]
        cold = self.tables.get(table, {}).get(key)
        if cold is None:
            return None
        row: Row = json.loads(cold[0])
        self._keep(table, key, row, cold[1])
        return row

    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None:
        self._keep(table, key, row, index)

    def delete(self, table: str, key: str) -> None:
        self._hot.pop((table, key), None)
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


def replay(projection: Projection, records: Iterable[bytes]) -> MemoryView:
    view = MemoryView()
    for position, data in enumerate(records):
        projection.apply(view, Event.from_record(position, data))
    return view


def replay_all(projections: Iterable[Projection], records: Iterable[bytes]) -> dict[str, str]:
    """Rebuild every projection in memory from the records alone; their digests by name."""
    views = [(projection, MemoryView()) for projection in projections]
    with _no_cycle_collection():
        for position, data in enumerate(records):
            event = Event.from_record(position, data)
            for projection, view in views:
                projection.apply(view, event)
        return {projection.name: digest(view) for projection, view in views}


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Replays make millions of short-lived objects and keep many rows alive: the cyclic
    collector would walk the live rows again and again. Rows and events hold no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
