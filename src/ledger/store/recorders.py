"""The event recorders: the library's, plus the command's Idempotency-Key in the same
transaction as its events (for a group commit, every member's key with its events).

`Store.save` passes the request's `KeyBinding` (ledger.request_keys) to the recorder. Its row —
key, actor, the request's fingerprint, the receipt's id and the events' notification ids — is
written after the events and before the commit, so both commit or neither does. A second
attempt with the same key fails on the row's primary key and rolls back its events; the HTTP
layer then answers from the row. The answer itself is stored by that layer after the commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatabaseError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteCursor,
)
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger import faults
from ledger.request_keys import TABLE, KeyBinding
from ledger.store.sqlite_reads import ThreadReaders

RECONNECT_TIMEOUT_S = 5.0
COLUMNS = (
    "(key TEXT NOT NULL, actor TEXT NOT NULL, request TEXT NOT NULL,"
    " receipt TEXT NOT NULL DEFAULT '', notifications TEXT NOT NULL DEFAULT '[]',"
    " status INTEGER, body TEXT, created_at TEXT NOT NULL, PRIMARY KEY (key, actor))"
)
INSERT = (
    "INSERT INTO {table} (key, actor, request, receipt, notifications, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
UPDATE = "UPDATE {table} SET notifications = ?, receipt = ? WHERE key = ? AND actor = ?"
INSERT_ROWS = 500
"""Records per insert statement on SQLite (4 values each, well within its parameter limit)."""


def _key_row(binding: KeyBinding, ids: Sequence[int]) -> tuple[str, tuple[Any, ...]]:
    """The statement (with `{table}` and `?`) binding `ids` to the key: an insert for its first
    save, an update adding the ids of a later save of the same command."""
    every = json.dumps([*binding.positions, *ids])
    if binding.written:
        return UPDATE, (every, binding.receipt_id, binding.key, binding.actor)
    now = datetime.now(UTC).isoformat()
    return INSERT, (
        binding.key,
        binding.actor,
        binding.fingerprint,
        binding.receipt_id,
        every,
        now,
    )


def _key_rows(
    kwargs: dict[str, Any], ids: Sequence[int] | None
) -> list[tuple[str, tuple[Any, ...]]]:
    """The key-row statements of a save: one request's `request_key`, or for a group commit
    (ledger.store.group_commit) each member's binding with its count of events, in order."""
    if not ids:
        return []
    found = kwargs.get("request_key")
    if isinstance(found, KeyBinding):
        return [_key_row(found, ids)]
    rows = []
    start = 0
    for binding, count in kwargs.get("request_keys", ()):
        mine = ids[start : start + count]
        start += count
        if isinstance(binding, KeyBinding) and mine:
            rows.append(_key_row(binding, mine))
    return rows


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {TABLE} {COLUMNS}",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The records, a few hundred rows per statement (the library inserts them one at a
        time), then the key rows, each kind in one call: a group commit's turn to write makes
        a handful of calls into SQLite, not two per command."""
        ids: list[int] = []
        for start in range(0, len(stored_events), INSERT_ROWS):
            chunk = stored_events[start : start + INSERT_ROWS]
            c.execute(
                f"INSERT INTO {self.events_table_name} VALUES"
                f" {', '.join(['(?, ?, ?, ?)'] * len(chunk))} RETURNING rowid",
                [
                    value
                    for s in chunk
                    for value in (
                        s.originator_id.hex if isinstance(s.originator_id, UUID)
                        else s.originator_id,
                        s.originator_version,
                        s.topic,
                        s.state,
                    )
                ],
            )  # fmt: skip
            # One statement under the write lock: each row takes the next rowid, so the ids in
            # increasing order are the rows' in the order given (RETURNING's own is not fixed).
            ids += sorted(int(row[0]) for row in c.fetchall())
        rows = _key_rows(kwargs, ids)
        for statement in (INSERT, UPDATE):
            params = [p for s, p in rows if s == statement]
            if params:
                c.executemany(statement.format(table=TABLE), params)
        if rows:
            faults.reach("events-written")
        return ids

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """A stream's records, as the library selects them, in one statement alone: in
        autocommit mode it is its own read transaction (one call where BEGIN ... ROLLBACK
        around it makes three, on every command's fast-forward read)."""
        where = ["originator_id = ?"]
        params: list[Any] = [
            originator_id.hex if isinstance(originator_id, UUID) else originator_id
        ]
        for clause, value in (("originator_version > ?", gt), ("originator_version <= ?", lte)):
            if value is not None:
                where.append(clause)
                params.append(value)
        statement = (
            f"SELECT * FROM {self.events_table_name} WHERE {' AND '.join(where)}"
            f" ORDER BY originator_version {'DESC' if desc else 'ASC'}"
        )
        if limit is not None:
            statement += " LIMIT ?"
            params.append(limit)
        return self._select(statement, params)

    def select_streams(
        self, originator_ids: Sequence[UUID], lte: int | None = None
    ) -> list[StoredEvent]:
        """The records of several streams (up to version `lte`) in one query, stream by stream,
        oldest first."""
        found: list[StoredEvent] = []
        upto = "" if lte is None else f" AND originator_version <= {int(lte)}"
        for start in range(0, len(originator_ids), 500):  # under SQLite's parameter limit
            chunk = [i.hex for i in originator_ids[start : start + 500]]
            found += self._select(
                f"SELECT * FROM {self.events_table_name} WHERE originator_id IN"
                f" ({', '.join('?' * len(chunk))}){upto}"
                " ORDER BY originator_id, originator_version",
                chunk,
            )
        return found

    def _select(self, statement: str, params: Sequence[Any]) -> list[StoredEvent]:
        """Records read by one SELECT, run alone (a statement sees one snapshot by itself), on
        this thread's own connection (ledger.store.sqlite_reads); the columns are the table's
        in their order: the stream, the version, the topic, the state."""
        try:
            rows = self._readers().rows(statement, params)
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.Error as exc:
            raise DatabaseError(exc) from exc
        convert = self.convert_originator_id
        return [
            StoredEvent(
                originator_id=convert(row[0]),
                originator_version=row[1],
                topic=row[2],
                state=row[3],
            )
            for row in rows
        ]

    def _readers(self) -> ThreadReaders:
        found: ThreadReaders | None = getattr(self, "_thread_readers", None)
        if found is None:
            pool = self.datastore.pool
            if pool.is_sqlite_memory_mode:  # each connection would see a database of its own
                raise TypeError("the ledger's SQLite database is a file, not in memory")
            found = self._thread_readers = ThreadReaders(
                pool.db_name, float(pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT)
            )
        return found

    def close_reads(self) -> None:
        """Close the connections the threads read on (with the application)."""
        found: ThreadReaders | None = getattr(self, "_thread_readers", None)
        if found is not None:
            found.close()


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry loop (see `PostgresLedgerRecorder`)."""
    return getattr(method, "__wrapped__", method)  # type: ignore[no-any-return]


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """The library retries a failed call ten times, 0.2 s apart, each waiting up to the
    connect timeout for a connection: during an outage a request would hang for about a minute,
    and a retried insert whose first commit did go through was a duplicate waiting to happen.
    Here each call is made once: the request fails within the timeout, is answered 503, and
    the client retries with its Idempotency-Key. Pooled connections are checked before use
    (pre-ping), so a restart of the database costs no failed request."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        pool = datastore.pool
        # A failed connection is retried with a doubling pause; giving up after a few seconds
        # lets the next request start afresh, so the pool is back soon after the database.
        pool.reconnect_timeout = RECONNECT_TIMEOUT_S
        given = pool.kwargs if isinstance(pool.kwargs, dict) else {}
        pool.kwargs = {**given, "connect_timeout": max(2, _timeout(datastore))}
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {schema}.{table} " + COLUMNS).format(
                schema=Identifier(datastore.schema), table=Identifier(TABLE)
            )
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        rows = _key_rows(kwargs, ids)
        if rows:
            table = SQL("{schema}.{table}").format(
                schema=Identifier(self.datastore.schema), table=Identifier(TABLE)
            )
            # Synchronise the pipeline here, so that a key already bound fails now, inside the
            # library's handling of insert errors, and rolls the events back with it.
            with curs.connection.pipeline():
                for statement, params in rows:
                    sql = statement.replace("?", "%s").replace("{table}", "{t}")
                    curs.execute(SQL(sql).format(t=table), params)  # type: ignore[arg-type]
            faults.reach("events-written")
        return ids

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids: Sequence[int] | None
        ids = _once(PostgresApplicationRecorder.insert_events)(self, stored_events, **kwargs)
        return ids

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        select = _once(PostgresApplicationRecorder.select_events)
        rows: Sequence[StoredEvent] = select(
            self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return rows

    def select_streams(
        self, originator_ids: Sequence[UUID], lte: int | None = None
    ) -> list[StoredEvent]:
        """The records of several streams (up to version `lte`) in one query, stream by stream,
        oldest first."""
        if not originator_ids:
            return []
        statement = SQL(
            "SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s)"
            " AND originator_version <= %s ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        upto = (1 << 62) if lte is None else lte
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids), upto), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        select = _once(PostgresApplicationRecorder.select_notifications)
        rows: Sequence[Notification] = select(
            self, start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )
        return rows

    def max_notification_id(self) -> int | None:
        newest: int | None = _once(PostgresApplicationRecorder.max_notification_id)(self)
        return newest


def _timeout(datastore: PostgresDatastore) -> int:
    """The connect timeout the datastore was given (POSTGRES_CONNECT_TIMEOUT), in seconds."""
    return int(getattr(datastore.pool, "timeout", 5))


def recorder_topic(postgres: bool) -> str:
    cls = PostgresLedgerRecorder if postgres else SQLiteLedgerRecorder
    return f"{cls.__module__}:{cls.__qualname__}"
