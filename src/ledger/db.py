"""A thin shared access to the ledger's own database for the parts the event library does not
manage (read models): one transaction at a time, SQL written once with `?` placeholders.

SQLite: the events file itself (`var/ledger.sqlite`), one connection per thread, writers
serialised by `BEGIN IMMEDIATE`. PostgreSQL: a small pool, tables in the configured schema; no
wait for a connection (nor for one to be made) lasts longer than `db_timeout_s`, so a request
during an outage fails within that and is answered 503.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from ledger.config import Settings, parse_database_url

# Processes starting together on an empty PostgreSQL database would race on
# `CREATE TABLE IF NOT EXISTS` (one fails on the catalogue's unique index); creating tables is
# serialised across processes by this session-level advisory lock ("LEDGERSC").
SCHEMA_LOCK_KEY = 0x4C45444745525343
_schema_locks: dict[str, tuple[psycopg.Connection[Any], int]] = {}
RECONNECT_TIMEOUT_S = 5.0
_schema_mutex = threading.RLock()


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Hold the schema lock while creating tables (re-entrant within a process; SQLite
    serialises writers already, so there it does nothing)."""
    if settings.database_url is None:
        yield
        return
    conninfo = parse_database_url(settings.database_url).conninfo()
    with _schema_mutex:
        held = _schema_locks.get(conninfo)
        if held is None:
            conn = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=connect_timeout(settings)
            )
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
            except BaseException:
                conn.close()
                raise
            held = (conn, 0)
        _schema_locks[conninfo] = (held[0], held[1] + 1)
        try:
            yield
        finally:
            conn, depth = _schema_locks.pop(conninfo)
            if depth > 1:
                _schema_locks[conninfo] = (conn, depth - 1)
            else:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
                finally:
                    conn.close()


def connect_timeout(settings: Settings) -> int:
    """libpq's `connect_timeout` (whole seconds; libpq treats less than 2 as 2)."""
    return max(settings.db_timeout_s, 2)


@contextmanager
def sqlite_write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on `conn`: committed on success, rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


def sqlite_connect(path: Path, *, durable: bool = True) -> sqlite3.Connection:
    """A connection to the ledger's SQLite file: autocommit (we say BEGIN), WAL, patient locks.
    Each commit is on disk before it returns; with `durable=False` (for what the records alone
    determine) a commit does not wait for the disk, and the next durable commit of any
    connection writes it there with its own."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    return conn


class Tx:
    """SQL inside one transaction."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self._postgres else text

    def execute(self, text: str, params: Sequence[Any] = ()) -> Cursor:
        return self._conn.execute(self._sql(text), tuple(params))  # type: ignore[no-any-return]

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._postgres:
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(text), rows)
        else:
            self._conn.executemany(text, rows)


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.database_url is not None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if self.postgres:
            assert settings.database_url is not None
            target = parse_database_url(settings.database_url)
            self.schema = target.schema or "public"
            self._pool: ConnectionPool | None = ConnectionPool(
                target.conninfo(),
                # Autocommit: `read` and `write` open their transactions themselves (BEGIN, as
                # without it), and `statement` runs alone without switching the mode each time.
                kwargs={"connect_timeout": connect_timeout(settings), "autocommit": True},
                min_size=1,
                max_size=4,
                timeout=settings.db_timeout_s,
                # The pool retries a failed connection with a doubling pause; giving up after
                # this long starts the next request's attempt afresh, so after an outage the
                # pool is back within seconds of the database, however long it was away.
                reconnect_timeout=RECONNECT_TIMEOUT_S,
                open=True,
            )
            self.events_table = f'"{self.schema}".ledger_events'
            self.nid = "notification_id"
        else:
            self._path = settings.data_dir / "ledger.sqlite"
            self._pool = None
            self.schema = ""
            self.events_table = "stored_events"
            self.nid = "rowid"

    def table(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.postgres else name

    def _sqlite(self, *, durable: bool = True) -> sqlite3.Connection:
        """This thread's connection (a second one, for writes that need not wait for the
        disk, when `durable` is False)."""
        name = "conn" if durable else "lazy"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            conn = sqlite_connect(self._path, durable=durable)
            setattr(self._local, name, conn)
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Tx]:
        """A serialised write transaction: committed on success, rolled back on error.

        `durable=False` is for what can be rebuilt from the records alone (the projections,
        their positions in the same transaction): on SQLite its commit does not wait for the
        disk, so a power cut may lose the newest such commits, and their positions with them,
        and they are applied again. The next durable commit writes them to disk too. (On
        PostgreSQL every commit is durable.)"""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                yield Tx(conn, True)
            return
        with sqlite_write(self._sqlite(durable=durable)) as lite:
            yield Tx(lite, False)

    @contextmanager
    def ddl(self) -> Iterator[Tx]:
        """A write transaction for creating tables, under the schema lock."""
        with schema_lock(self.settings), self.write() as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield Tx(conn, True)
            return
        lite = self._sqlite()
        lite.execute("BEGIN")
        try:
            yield Tx(lite, False)
        finally:
            lite.execute("ROLLBACK")

    @contextmanager
    def statement(self) -> Iterator[Tx]:
        """For ONE read-only statement, which sees one snapshot by itself: it runs without a
        transaction around it (on PostgreSQL one round trip instead of four; on SQLite one call
        instead of three, the statement its own read transaction in autocommit mode)."""
        if self._pool is None:
            yield Tx(self._sqlite(), False)
            return
        with self._pool.connection() as conn:
            yield Tx(conn, True)

    def secure_delete(self, on: bool) -> None:
        """SQLite: whether this thread's connection overwrites deleted rows (for personal data
        being erased); PostgreSQL has no such switch (its tables are vacuumed instead)."""
        if self._pool is None:
            self._sqlite().execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")

    def checkpoint_wal(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it, so that pages just
        overwritten replace the old ones on disk (a reader still open may delay it)."""
        if self._pool is None:
            self._sqlite().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
