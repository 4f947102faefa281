"""Where the log lives: leaf and node hashes and signed checkpoints, beside the events.

The log tables sit in the same database as the event table, so a sequencing batch reads new
events and writes their leaves in one transaction: after a crash either the whole batch is there
or none of it. One writer at a time: SQLite's `BEGIN IMMEDIATE`, PostgreSQL's transaction-level
advisory lock.

Tables: `ledger_log_leaves(leaf_index, notification_id)`, `ledger_log_nodes(level, node_index,
hash)` holding every complete perfect subtree (level 0 = leaf hashes), and
`ledger_log_checkpoints(tree_size, root, note, signed_at)` keeping every signed checkpoint, and
`ledger_log_cosignatures(tree_size, witness, line, cosigned_at)`: the witnesses' cosignature lines
(C2SP tlog-cosignature) returned for a checkpoint, kept beside it and appended to its note when
served.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg_pool import ConnectionPool

from ledger.config import Settings, parse_database_url
from ledger.db import schema_lock, sqlite_connect, sqlite_write

ADVISORY_LOCK_KEY = 0x1ED6E7  # "the ledger's sequencer": any fixed 64-bit number
NodeId = tuple[int, int]


@dataclass(frozen=True)
class EventRow:
    """A row of the event table as the log sees it."""

    notification_id: int
    stream: str
    version: int
    type: str
    data: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: str
    cosignatures: tuple[str, ...] = ()

    @property
    def cosigned_note(self) -> str:
        """The log's signed note with the witnesses' cosignature lines appended."""
        return self.note + "".join(self.cosignatures)


def _with_cosignatures(
    checkpoints: list[StoredCheckpoint], rows: Iterable[tuple[int, str]]
) -> list[StoredCheckpoint]:
    lines: dict[int, list[str]] = {}
    for size, line in rows:
        lines.setdefault(size, []).append(line)
    return [
        replace(c, cosignatures=tuple(lines[c.size])) if c.size in lines else c for c in checkpoints
    ]


class LogTransaction(ABC):
    """What the sequencer and checkpointer do inside one write transaction."""

    @abstractmethod
    def size(self) -> tuple[int, int]:
        """(number of leaves, notification id of the newest leaf or 0)."""

    @abstractmethod
    def events_after(self, notification_id: int, limit: int) -> list[EventRow]: ...

    @abstractmethod
    def leaf_data_after(self, notification_id: int, limit: int) -> list[tuple[int, bytes]]:
        """(notification id, stored record) of the events after `notification_id`, in order:
        what sequencing needs, without the columns it does not."""

    @abstractmethod
    def add_leaves(self, leaves: Sequence[tuple[int, int]]) -> None:
        """(leaf index, notification id) pairs."""

    @abstractmethod
    def add_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None: ...

    @abstractmethod
    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]: ...

    @abstractmethod
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...

    @abstractmethod
    def latest_checkpoint(self) -> StoredCheckpoint | None: ...


class LogStorage(ABC):
    @contextmanager
    @abstractmethod
    def write(self, *, durable: bool = True) -> Iterator[LogTransaction]:
        """One serialised write transaction (committed on success, rolled back on error).
        `durable=False` is for the leaves and nodes, which the records alone determine: on
        SQLite their commit does not wait for the disk (a power cut may lose the newest, and
        they are sequenced again, the same), and the next durable commit, a checkpoint's
        among them, writes them to disk too; a checkpoint never names leaves a power cut can
        take. (On PostgreSQL every commit is durable.)"""

    @contextmanager
    @abstractmethod
    def read(self) -> Iterator[LogTransaction]:
        """A read-only snapshot."""

    @abstractmethod
    def entries(self, start: int, end: int) -> list[tuple[int, EventRow]]:
        """Leaves `start <= index < end` with their event rows, in order."""

    @abstractmethod
    def checkpoints(self) -> list[StoredCheckpoint]: ...

    @abstractmethod
    def leaf_index(self, stream: UUID, version: int) -> int | None: ...

    @abstractmethod
    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> None:
        """Keep a witness's cosignature line for the checkpoint of `size` (a repeat is a no-op)."""

    @abstractmethod
    def witness_sizes(self) -> dict[str, int]:
        """For each witness, the largest checkpoint size it has cosigned here."""

    def all_events(self, batch: int = 5000) -> Iterator[EventRow]:
        """Every event row in notification (commit) order, sequenced or not."""
        last = 0
        while True:
            with self.read() as tx:
                rows = tx.events_after(last, batch)
            if not rows:
                return
            yield from rows
            last = rows[-1].notification_id

    def close(self) -> None:
        return None


def _stream(value: Any) -> str:
    return str(value if isinstance(value, UUID) else UUID(str(value)))


class _SQLiteTransaction(LogTransaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def size(self) -> tuple[int, int]:
        row = self.c.execute(
            "SELECT leaf_index, notification_id FROM ledger_log_leaves"
            " ORDER BY leaf_index DESC LIMIT 1"
        ).fetchone()
        return (0, 0) if row is None else (row[0] + 1, row[1])

    def events_after(self, notification_id: int, limit: int) -> list[EventRow]:
        rows = self.c.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
            " WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (notification_id, limit),
        ).fetchall()
        return [EventRow(r[0], _stream(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

    def leaf_data_after(self, notification_id: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self.c.execute(
            "SELECT rowid, state FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (notification_id, limit),
        ).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    def add_leaves(self, leaves: Sequence[tuple[int, int]]) -> None:
        self.c.executemany(
            "INSERT INTO ledger_log_leaves (leaf_index, notification_id) VALUES (?, ?)", leaves
        )

    def add_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        self.c.executemany(
            "INSERT INTO ledger_log_nodes (level, node_index, hash) VALUES (?, ?, ?)", nodes
        )

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for level, index in ids:
            row = self.c.execute(
                "SELECT hash FROM ledger_log_nodes WHERE level = ? AND node_index = ?",
                (level, index),
            ).fetchone()
            if row is not None:
                found[(level, index)] = bytes(row[0])
        return found

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self.c.execute(
            "INSERT INTO ledger_log_checkpoints (tree_size, root, note, signed_at)"
            " VALUES (?, ?, ?, ?)",
            (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.signed_at),
        )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self.c.execute(
            "SELECT tree_size, root, note, signed_at FROM ledger_log_checkpoints"
            " ORDER BY tree_size DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        lines = self.c.execute(
            "SELECT witness, line FROM ledger_log_cosignatures WHERE tree_size = ?"
            " ORDER BY witness",
            (row[0],),
        ).fetchall()
        cosignatures = tuple(str(line[1]) for line in lines)
        return StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3], cosignatures)


class SQLiteLogStorage(LogStorage):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        conn = self._connection()
        conn.executescript(
            "CREATE TABLE IF NOT EXISTS ledger_log_leaves ("
            " leaf_index INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL UNIQUE);"
            "CREATE TABLE IF NOT EXISTS ledger_log_nodes ("
            " level INTEGER NOT NULL, node_index INTEGER NOT NULL, hash BLOB NOT NULL,"
            " PRIMARY KEY (level, node_index)) WITHOUT ROWID;"
            "CREATE TABLE IF NOT EXISTS ledger_log_checkpoints ("
            " tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL,"
            " signed_at TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS ledger_log_cosignatures ("
            " tree_size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL,"
            " cosigned_at INTEGER NOT NULL, PRIMARY KEY (tree_size, witness));"
        )

    def _connection(self, *, durable: bool = True) -> sqlite3.Connection:
        """This thread's connection (a second one, for commits that need not wait for the
        disk, when `durable` is False)."""
        name = "conn" if durable else "lazy"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            conn = sqlite_connect(self._path, durable=durable)
            setattr(self._local, name, conn)
        return conn

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[LogTransaction]:
        with sqlite_write(self._connection(durable=durable)) as conn:
            yield _SQLiteTransaction(conn)

    @contextmanager
    def read(self) -> Iterator[LogTransaction]:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield _SQLiteTransaction(conn)
        finally:
            conn.execute("ROLLBACK")

    def entries(self, start: int, end: int) -> list[tuple[int, EventRow]]:
        rows = (
            self._connection()
            .execute(
                "SELECT l.leaf_index, e.rowid, e.originator_id, e.originator_version, e.topic,"
                " e.state FROM ledger_log_leaves l"
                " JOIN stored_events e ON e.rowid = l.notification_id"
                " WHERE l.leaf_index >= ? AND l.leaf_index < ? ORDER BY l.leaf_index",
                (start, end),
            )
            .fetchall()
        )
        return [(r[0], EventRow(r[1], _stream(r[2]), r[3], r[4], bytes(r[5]))) for r in rows]

    def checkpoints(self) -> list[StoredCheckpoint]:
        conn = self._connection()
        rows = conn.execute(
            "SELECT tree_size, root, note, signed_at FROM ledger_log_checkpoints ORDER BY tree_size"
        ).fetchall()
        lines = conn.execute(
            "SELECT tree_size, line FROM ledger_log_cosignatures ORDER BY tree_size, witness"
        ).fetchall()
        return _with_cosignatures(
            [StoredCheckpoint(r[0], bytes(r[1]), r[2], r[3]) for r in rows], lines
        )

    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> None:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO ledger_log_cosignatures (tree_size, witness, line, cosigned_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (tree_size, witness) DO NOTHING",
                (size, witness, line, cosigned_at),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def witness_sizes(self) -> dict[str, int]:
        rows = (
            self._connection()
            .execute("SELECT witness, MAX(tree_size) FROM ledger_log_cosignatures GROUP BY witness")
            .fetchall()
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def leaf_index(self, stream: UUID, version: int) -> int | None:
        row = (
            self._connection()
            .execute(
                "SELECT l.leaf_index FROM stored_events e JOIN ledger_log_leaves l"
                " ON l.notification_id = e.rowid"
                " WHERE e.originator_id = ? AND e.originator_version = ?",
                (stream.hex, version),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    def close(self) -> None:
        for name in ("conn", "lazy"):
            conn = getattr(self._local, name, None)
            if conn is not None:
                conn.close()
                setattr(self._local, name, None)


class _PostgresTransaction(LogTransaction):
    def __init__(self, cursor: Any, schema: str) -> None:
        self.cur = cursor
        self.s = sql.Identifier(schema)

    def _q(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(s=self.s)

    def size(self) -> tuple[int, int]:
        row = self.cur.execute(
            self._q(
                "SELECT leaf_index, notification_id FROM {s}.ledger_log_leaves"
                " ORDER BY leaf_index DESC LIMIT 1"
            )
        ).fetchone()
        return (0, 0) if row is None else (row[0] + 1, row[1])

    def events_after(self, notification_id: int, limit: int) -> list[EventRow]:
        rows = self.cur.execute(
            self._q(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM {s}.ledger_events WHERE notification_id > %s"
                " ORDER BY notification_id LIMIT %s"
            ),
            (notification_id, limit),
        ).fetchall()
        return [EventRow(r[0], _stream(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

    def leaf_data_after(self, notification_id: int, limit: int) -> list[tuple[int, bytes]]:
        rows = self.cur.execute(
            self._q(
                "SELECT notification_id, state FROM {s}.ledger_events"
                " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            ),
            (notification_id, limit),
        ).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    # Leaves and nodes go in as one statement of arrays, sent in binary (`%b`): a few thousand
    # rows cost one round trip and no text escaping of the hashes.

    def add_leaves(self, leaves: Sequence[tuple[int, int]]) -> None:
        if leaves:
            indexes, notification_ids = zip(*leaves, strict=True)
            self.cur.execute(
                self._q(
                    "INSERT INTO {s}.ledger_log_leaves (leaf_index, notification_id)"
                    " SELECT * FROM unnest(%b::bigint[], %b::bigint[])"
                ),
                (list(indexes), list(notification_ids)),
            )

    def add_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        if nodes:
            levels, indexes, hashes = zip(*nodes, strict=True)
            self.cur.execute(
                self._q(
                    "INSERT INTO {s}.ledger_log_nodes (level, node_index, hash)"
                    " SELECT * FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[])"
                ),
                (list(levels), list(indexes), list(hashes)),
            )

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        if not ids:
            return {}
        rows = self.cur.execute(
            self._q(
                "SELECT n.level, n.node_index, n.hash FROM {s}.ledger_log_nodes n"
                " JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, node_index)"
                " ON n.level = w.level AND n.node_index = w.node_index"
            ),
            ([i[0] for i in ids], [i[1] for i in ids]),
        ).fetchall()
        return {(r[0], r[1]): bytes(r[2]) for r in rows}

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self.cur.execute(
            self._q(
                "INSERT INTO {s}.ledger_log_checkpoints (tree_size, root, note, signed_at)"
                " VALUES (%s, %s, %s, %s)"
            ),
            (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.signed_at),
        )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self.cur.execute(
            self._q(
                "SELECT tree_size, root, note, signed_at FROM {s}.ledger_log_checkpoints"
                " ORDER BY tree_size DESC LIMIT 1"
            )
        ).fetchone()
        if row is None:
            return None
        lines = self.cur.execute(
            self._q(
                "SELECT witness, line FROM {s}.ledger_log_cosignatures WHERE tree_size = %s"
                " ORDER BY witness"
            ),
            (row[0],),
        ).fetchall()
        cosignatures = tuple(str(line[1]) for line in lines)
        return StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3], cosignatures)


class PostgresLogStorage(LogStorage):
    def __init__(self, conninfo: str, schema: str) -> None:
        self._schema = schema or "public"
        self._pool = ConnectionPool(conninfo, min_size=1, max_size=4, open=True)
        with self._pool.connection() as conn:
            for statement in (
                "CREATE TABLE IF NOT EXISTS {s}.ledger_log_leaves ("
                " leaf_index bigint PRIMARY KEY, notification_id bigint NOT NULL UNIQUE)",
                "CREATE TABLE IF NOT EXISTS {s}.ledger_log_nodes (level smallint NOT NULL,"
                " node_index bigint NOT NULL, hash bytea NOT NULL,"
                " PRIMARY KEY (level, node_index))",
                "CREATE TABLE IF NOT EXISTS {s}.ledger_log_checkpoints ("
                " tree_size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL,"
                " signed_at text NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {s}.ledger_log_cosignatures ("
                " tree_size bigint NOT NULL, witness text NOT NULL, line text NOT NULL,"
                " cosigned_at bigint NOT NULL, PRIMARY KEY (tree_size, witness))",
            ):
                conn.execute(sql.SQL(statement).format(s=sql.Identifier(self._schema)))

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[LogTransaction]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            yield _PostgresTransaction(cur, self._schema)

    @contextmanager
    def read(self) -> Iterator[LogTransaction]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _PostgresTransaction(cur, self._schema)

    def _fetch(self, text: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._pool.connection() as conn:
            return conn.execute(
                sql.SQL(text).format(s=sql.Identifier(self._schema)), tuple(params)
            ).fetchall()

    def entries(self, start: int, end: int) -> list[tuple[int, EventRow]]:
        rows = self._fetch(
            "SELECT l.leaf_index, e.notification_id, e.originator_id, e.originator_version,"
            " e.topic, e.state FROM {s}.ledger_log_leaves l JOIN {s}.ledger_events e"
            " ON e.notification_id = l.notification_id"
            " WHERE l.leaf_index >= %s AND l.leaf_index < %s ORDER BY l.leaf_index",
            (start, end),
        )
        return [(r[0], EventRow(r[1], _stream(r[2]), r[3], r[4], bytes(r[5]))) for r in rows]

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._fetch(
            "SELECT tree_size, root, note, signed_at FROM {s}.ledger_log_checkpoints"
            " ORDER BY tree_size"
        )
        lines = self._fetch(
            "SELECT tree_size, line FROM {s}.ledger_log_cosignatures ORDER BY tree_size, witness"
        )
        return _with_cosignatures(
            [StoredCheckpoint(r[0], bytes(r[1]), r[2], r[3]) for r in rows],
            [(r[0], r[1]) for r in lines],
        )

    def add_cosignature(self, size: int, witness: str, line: str, cosigned_at: int) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {s}.ledger_log_cosignatures"
                    " (tree_size, witness, line, cosigned_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (tree_size, witness) DO NOTHING"
                ).format(s=sql.Identifier(self._schema)),
                (size, witness, line, cosigned_at),
            )

    def witness_sizes(self) -> dict[str, int]:
        rows = self._fetch(
            "SELECT witness, MAX(tree_size) FROM {s}.ledger_log_cosignatures GROUP BY witness"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def leaf_index(self, stream: UUID, version: int) -> int | None:
        rows = self._fetch(
            "SELECT l.leaf_index FROM {s}.ledger_events e JOIN {s}.ledger_log_leaves l"
            " ON l.notification_id = e.notification_id"
            " WHERE e.originator_id = %s AND e.originator_version = %s",
            (stream, version),
        )
        return None if not rows else int(rows[0][0])

    def close(self) -> None:
        self._pool.close()


def open_log_storage(settings: Settings) -> LogStorage:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SQLiteLogStorage(settings.data_dir / "ledger.sqlite")
    target = parse_database_url(settings.database_url)
    with schema_lock(settings):
        return PostgresLogStorage(target.conninfo(), target.schema)
