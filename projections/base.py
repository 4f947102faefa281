"""What every projection is made of: a name, a version, handlers per event type, its own tables,
and a content digest that depends only on its rows.

Projections never see personal data: handlers read the non-personal members of event payloads
(personal fields are encrypted in the records and stay so), so anyone holding the records can
rebuild every projection and compare digests, and erasing a person needs no purge here.

This module imports no framework and no database: the runner supplies a `View` backed by SQLite
or PostgreSQL, the auditor one backed by memory; the same handler code runs on both.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
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

    Rows are kept as the dicts handlers put (every handler puts what it changes), and written
    as canonical JSON only for the digest: a replay does not parse JSON per event.
    """

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, tuple[Row, str | None]]] = {}

    def get(self, table: str, key: str) -> Row | None:
        found = self.tables.get(table, {}).get(key)
        return None if found is None else found[0]

    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None:
        self.tables.setdefault(table, {})[key] = (row, index)

    def delete(self, table: str, key: str) -> None:
        self.tables.get(table, {}).pop(key, None)

    def rows(self, table: str, index: str | None = None) -> Iterator[tuple[str, Row]]:
        for key, (row, row_index) in sorted(self.tables.get(table, {}).items()):
            if index is None or row_index == index:
                yield key, row

    def all_rows(self) -> Iterator[tuple[str, str, str]]:
        for table in sorted(self.tables):
            for key, (row, _) in sorted(self.tables[table].items()):
                yield table, key, row_json(row)


def replay(projection: Projection, records: Iterable[bytes]) -> MemoryView:
    view = MemoryView()
    for position, data in enumerate(records):
        projection.apply(view, Event.from_record(position, data))
    return view


def replay_all(projections: Iterable[Projection], records: Iterable[bytes]) -> dict[str, str]:
    """Rebuild every projection in memory from the records alone; their digests by name."""
    views = [(projection, MemoryView()) for projection in projections]
    for position, data in enumerate(records):
        event = Event.from_record(position, data)
        for projection, view in views:
            projection.apply(view, event)
    return {projection.name: digest(view) for projection, view in views}
