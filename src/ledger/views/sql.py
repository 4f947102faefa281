"""Projection tables in the ledger's database, and where each projection has got to.

Each projection generation has its own table `proj_<name>_g<generation>` of rows
(tbl, key, data as canonical JSON, idx). `ledger_projections` records, per generation, the
projection version, the log position reached (events applied), the notification id of the last
event applied, and whether it is the generation readers use. The tracking row is updated in the
same transaction as the rows it accounts for: after a crash, a batch is either all there or not
at all, and no event is applied twice.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.db import Database, Tx
from projections.base import Row, View, row_json

StoredRow = tuple[str, str, str, str | None]  # table, key, canonical JSON, index
_UNTOUCHED: Any = object()  # a row neither put nor deleted in this batch


@dataclass(frozen=True)
class Tracking:
    name: str
    generation: int
    version: int
    position: int
    notification_id: int
    active: bool

    @property
    def table(self) -> str:
        return f"proj_{self.name}_g{self.generation}"


def ensure_registry(db: Database) -> None:
    with db.ddl() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {db.table('ledger_projections')} ("
            " name TEXT NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,"
            " position BIGINT NOT NULL, notification_id BIGINT NOT NULL, active INTEGER NOT NULL,"
            " PRIMARY KEY (name, generation))"
        )


def create_generation(tx: Tx, db: Database, name: str, generation: int, version: int) -> Tracking:
    tracking = Tracking(name, generation, version, 0, 0, False)
    table = db.table(tracking.table)
    _drop_table(tx, db, table)
    tx.execute(
        f"CREATE TABLE {table} (tbl TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,"
        " idx TEXT, PRIMARY KEY (tbl, key))"
    )
    # Only rows put with an index are looked up by it: the others need no entry.
    tx.execute(f"CREATE INDEX {tracking.table}_idx ON {table} (tbl, idx) WHERE idx IS NOT NULL")
    tx.execute(
        f"INSERT INTO {db.table('ledger_projections')}"
        " (name, generation, version, position, notification_id, active) VALUES (?, ?, ?, 0, 0, 0)",
        (name, generation, version),
    )
    return tracking


def trackings(tx: Tx, db: Database, name: str | None = None) -> list[Tracking]:
    where, params = ("WHERE name = ?", (name,)) if name else ("", ())
    rows = tx.execute(
        "SELECT name, generation, version, position, notification_id, active"
        f" FROM {db.table('ledger_projections')} {where} ORDER BY name, generation",
        params,
    ).fetchall()
    return [Tracking(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def lock_tracking(
    tx: Tx, db: Database, name: str, generation: int, *, lock: bool = True
) -> Tracking | None:
    """The tracking row, locked against other runners until the transaction ends."""
    lock_clause = " FOR UPDATE" if db.postgres and lock else ""
    row = tx.execute(
        "SELECT name, generation, version, position, notification_id, active"
        f" FROM {db.table('ledger_projections')} WHERE name = ? AND generation = ?{lock_clause}",
        (name, generation),
    ).fetchone()
    return None if row is None else Tracking(row[0], row[1], row[2], row[3], row[4], bool(row[5]))


def lock_trackings(tx: Tx, db: Database, targets: Sequence[tuple[str, int]]) -> list[Tracking]:
    """The tracking rows of `targets` (name, generation) that exist, in one statement, locked
    against other runners until the transaction ends, in one order (name, then generation) for
    every runner."""
    if not targets:
        return []
    wanted = " OR ".join("(name = ? AND generation = ?)" for _ in targets)
    lock_clause = " FOR UPDATE" if db.postgres else ""
    rows = tx.execute(
        "SELECT name, generation, version, position, notification_id, active"
        f" FROM {db.table('ledger_projections')} WHERE {wanted}"
        f" ORDER BY name, generation{lock_clause}",
        [value for target in targets for value in target],
    ).fetchall()
    return [Tracking(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]


def advance(tx: Tx, db: Database, tracking: Tracking, position: int, notification_id: int) -> None:
    advance_all(tx, db, [tracking], position, notification_id)


def advance_all(
    tx: Tx, db: Database, moved: Sequence[Tracking], position: int, notification_id: int
) -> None:
    """Every tracking row of `moved` to `position` and `notification_id`, in one call."""
    tx.executemany(
        f"UPDATE {db.table('ledger_projections')} SET position = ?, notification_id = ?"
        " WHERE name = ? AND generation = ? AND position = ?",
        [(position, notification_id, t.name, t.generation, t.position) for t in moved],
    )


def activate(tx: Tx, db: Database, name: str, generation: int) -> list[Tracking]:
    """Make `generation` the one readers use; return the generations it replaces."""
    old = [t for t in trackings(tx, db, name) if t.generation != generation]
    tx.execute(
        f"UPDATE {db.table('ledger_projections')} SET active = CASE WHEN generation = ? THEN 1"
        " ELSE 0 END WHERE name = ?",
        (generation, name),
    )
    return old


def drop_generation(tx: Tx, db: Database, tracking: Tracking) -> None:
    _drop_table(tx, db, db.table(tracking.table))
    tx.execute(
        f"DELETE FROM {db.table('ledger_projections')} WHERE name = ? AND generation = ?",
        (tracking.name, tracking.generation),
    )


def _drop_table(tx: Tx, db: Database, table: str) -> None:
    """Drop a generation's table. Its rows are the records' non-personal content, so on SQLite
    its pages are freed without first being overwritten with zeros, which SQLite may be built
    to do for every freed page (`secure_delete`, on in some distributions' builds): that would
    write a dropped generation out once more in full. The connection's setting is restored."""
    if db.postgres:
        tx.execute(f"DROP TABLE IF EXISTS {table}")
        return
    before = int(tx.execute("PRAGMA secure_delete").fetchone()[0])
    tx.execute("PRAGMA secure_delete = 0")
    try:
        tx.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        tx.execute(f"PRAGMA secure_delete = {before}")


def load_rows(tx: Tx, db: Database, tracking: Tracking, rows: Sequence[StoredRow]) -> None:
    """Rows built elsewhere (a replay in memory) into a generation's empty table, as a flush
    of the same rows would write them."""
    tx.executemany(
        f"INSERT INTO {db.table(tracking.table)} (tbl, key, data, idx) VALUES (?, ?, ?, ?)", rows
    )


def events_after(tx: Tx, db: Database, notification_id: int, limit: int) -> list[tuple[int, bytes]]:
    rows = tx.execute(
        f"SELECT {db.nid}, state FROM {db.events_table} WHERE {db.nid} > ?"
        f" ORDER BY {db.nid} LIMIT ?",
        (notification_id, limit),
    ).fetchall()
    return [(r[0], bytes(r[1])) for r in rows]


def unprojected(tx: Tx, db: Database) -> bool:
    """Whether an event stands past an active projection's position: one statement."""
    row = tx.execute(
        f"SELECT (SELECT max({db.nid}) FROM {db.events_table}) >"
        f" (SELECT min(notification_id) FROM {db.table('ledger_projections')} WHERE active = 1)"
    ).fetchone()
    return bool(row[0])


def newest_notification(tx: Tx, db: Database) -> tuple[int, int]:
    """(number of events, newest notification id)."""
    row = tx.execute(f"SELECT count(*), max({db.nid}) FROM {db.events_table}").fetchone()
    return int(row[0]), int(row[1] or 0)


def _parse(data: str) -> Row:
    row: Row = json.loads(data)
    return row


class RowCache:
    """The rows of one projection generation that the live runner read or wrote lately, as
    committed, by (table, key): the next batch finds them without a read or a parse.

    Only the runner that writes the generation holds one. It is good for the tracking position
    it was left at (`at`): a batch that finds the generation anywhere else (another process
    applied events to it) starts without it, and a batch that fails empties it, since its
    handlers may have changed cached rows in place."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self.at: tuple[int, int] | None = None
        self._rows: OrderedDict[tuple[str, str], Row] = OrderedDict()

    def get(self, place: tuple[str, str]) -> Row | None:
        row = self._rows.get(place)
        if row is not None:
            self._rows.move_to_end(place)
        return row

    def put(self, place: tuple[str, str], row: Row) -> None:
        self._rows[place] = row
        self._rows.move_to_end(place)
        if len(self._rows) > self.limit:
            self._rows.popitem(last=False)

    def drop(self, place: tuple[str, str]) -> None:
        self._rows.pop(place, None)

    def clear(self) -> None:
        self._rows.clear()
        self.at = None


class SqlView(View):
    """A projection generation's table inside one transaction; writes are kept and flushed
    together (they are visible to this view's own reads at once).

    A row put is kept as the handler's dict and written as JSON once, at the flush: a row that
    many events of a batch change is parsed once and serialised once per batch. With a `cache`
    (the live runner's), rows read or written by earlier batches are not read again."""

    def __init__(self, tx: Tx, table: str, cache: RowCache | None = None) -> None:
        self.tx = tx
        self.table = table
        self._cache = cache
        self._dirty: dict[tuple[str, str], tuple[Row, str | None] | None] = {}

    def get(self, table: str, key: str) -> Row | None:
        place = (table, key)
        found = self._dirty.get(place, _UNTOUCHED)
        if found is not _UNTOUCHED:
            return None if found is None else found[0]
        cache = self._cache
        if cache is not None and (cached := cache.get(place)) is not None:
            return cached
        row = self.tx.execute(
            f"SELECT data FROM {self.table} WHERE tbl = ? AND key = ?", (table, key)
        ).fetchone()
        if row is None:
            return None
        parsed = _parse(row[0])
        if cache is not None:
            cache.put(place, parsed)
        return parsed

    def put(self, table: str, key: str, row: Row, index: str | None = None) -> None:
        self._dirty[(table, key)] = (row, index)

    def delete(self, table: str, key: str) -> None:
        self._dirty[(table, key)] = None

    def flush(self) -> None:
        upserts = []
        deletes = []
        cache = self._cache
        for (table, key), put in self._dirty.items():
            if put is None:
                deletes.append((table, key))
                if cache is not None:
                    cache.drop((table, key))
            else:
                upserts.append((table, key, row_json(put[0]), put[1]))
                if cache is not None:
                    cache.put((table, key), put[0])
        self.tx.executemany(
            f"INSERT INTO {self.table} (tbl, key, data, idx) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tbl, key) DO UPDATE SET data = excluded.data, idx = excluded.idx",
            upserts,
        )
        self.tx.executemany(f"DELETE FROM {self.table} WHERE tbl = ? AND key = ?", deletes)
        self._dirty.clear()

    def rows(self, table: str, index: str | None = None) -> Iterator[tuple[str, Row]]:
        self.flush()
        if index is None:
            found = self.tx.execute(
                f"SELECT key, data FROM {self.table} WHERE tbl = ? ORDER BY key", (table,)
            ).fetchall()
        else:
            found = self.tx.execute(
                f"SELECT key, data FROM {self.table} WHERE tbl = ? AND idx = ? ORDER BY key",
                (table, index),
            ).fetchall()
        # Ordered in Python: database collations differ, the digest must not.
        for key, data in sorted(found):
            yield key, json.loads(data)

    def all_rows(self) -> Iterator[tuple[str, str, str]]:
        self.flush()
        found = self.tx.execute(f"SELECT tbl, key, data FROM {self.table}").fetchall()
        yield from sorted((str(t), str(k), str(d)) for t, k, d in found)
