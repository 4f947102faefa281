"""Direct SQL on the stored rows, for tamper tests: what an attacker with database access does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from ledger.config import Settings, parse_database_url


class RawEvents:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.database_url is None:
            self.kind = "sqlite"
            self.table = "stored_events"
        else:
            self.kind = "postgres"
            target = parse_database_url(settings.database_url)
            self.conninfo = target.conninfo()
            self.table = f'"{target.schema}".ledger_events'

    def _id(self, stream: UUID) -> Any:
        return stream.hex if self.kind == "sqlite" else stream

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.settings.data_dir / "ledger.sqlite", isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
        else:
            with psycopg.connect(self.conninfo, autocommit=True) as pg:
                yield pg

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.kind == "postgres" else text

    def state(self, stream: UUID, version: int) -> bytes:
        with self._cursor() as cur:
            row = cur.execute(
                self._sql(
                    f"SELECT state FROM {self.table} WHERE originator_id = ? AND originator_version = ?"
                ),
                (self._id(stream), version),
            ).fetchone()
        return bytes(row[0])

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._execute(
            f"UPDATE {self.table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self._id(stream), version),
        )

    def set_topic(self, stream: UUID, version: int, topic: str) -> None:
        self._execute(
            f"UPDATE {self.table} SET topic = ? WHERE originator_id = ? AND originator_version = ?",
            (topic, self._id(stream), version),
        )

    def set_version(self, stream: UUID, version: int, new_version: int) -> None:
        self._execute(
            f"UPDATE {self.table} SET originator_version = ?"
            " WHERE originator_id = ? AND originator_version = ?",
            (new_version, self._id(stream), version),
        )

    def delete(self, stream: UUID, version: int) -> None:
        self._execute(
            f"DELETE FROM {self.table} WHERE originator_id = ? AND originator_version = ?",
            (self._id(stream), version),
        )

    def execute_log(self, statement: str, params: tuple[Any, ...]) -> None:
        """Run SQL on the log tables; `{log}` stands for their schema prefix."""
        prefix = "" if self.kind == "sqlite" else self.table.split(".")[0] + "."
        with self._cursor() as cur:
            cur.execute(self._sql(statement.format(log=prefix)), params)

    def count(self) -> int:
        with self._cursor() as cur:
            return int(cur.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0])

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._cursor() as cur:
            result = cur.execute(self._sql(sql), params)
            assert result.rowcount == 1, f"expected to change one row, changed {result.rowcount}"


class RawRows(RawEvents):
    """Rows addressed by notification id (SQLite rowid, PostgreSQL notification_id)."""

    @property
    def nid(self) -> str:
        return "rowid" if self.kind == "sqlite" else "notification_id"

    @property
    def log_prefix(self) -> str:
        return "" if self.kind == "sqlite" else self.table.split(".")[0] + "."

    def rows(self) -> list[tuple[int, Any, int, str, bytes]]:
        with self._cursor() as cur:
            found = cur.execute(
                f"SELECT {self.nid}, originator_id, originator_version, topic, state"
                f" FROM {self.table} ORDER BY {self.nid}"
            ).fetchall()
        return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in found]

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        with self._cursor() as cur:
            cur.execute(
                self._sql(statement.format(events=self.table, log=self.log_prefix, nid=self.nid)),
                params,
            )

    def insert(self, row: tuple[int, Any, int, str, bytes]) -> None:
        self.run(
            "INSERT INTO {events} ({nid}, originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?, ?)",
            row,
        )

    def checkpoints(self) -> list[tuple[int, bytes, str, str]]:
        with self._cursor() as cur:
            found = cur.execute(
                f"SELECT tree_size, root, note, signed_at FROM {self.log_prefix}ledger_log_checkpoints"
                " ORDER BY tree_size"
            ).fetchall()
        return [(r[0], bytes(r[1]), r[2], r[3]) for r in found]
