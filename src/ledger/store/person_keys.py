"""Per-person data keys, kept outside the event log and wrapped by a key-encryption key.

Erasure overwrites the wrapped key with nothing and records when; the rows of the event log
are untouched, so every signature and chain link still verifies while the personal fields can
no longer be read. SQLite keeps the keys in their own file with `secure_delete` on and the
WAL truncated after an erasure; PostgreSQL keeps them in their own table, vacuumed after one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

from ledger.integrity.errors import DecryptionError
from ledger.integrity.personal import unwrap_key, wrap_key


class PersonKeys(ABC):
    """Contract: `key_for` returns the data key, None once erased, and raises
    `DecryptionError` when there never was a key (a store that lost its keys)."""

    def __init__(self, kek: bytes) -> None:
        self._kek = kek

    def key_for(self, person: str, *, create: bool = False) -> bytes | None:
        found, wrapped = self._load(person)
        if found:
            return None if wrapped is None else unwrap_key(self._kek, wrapped, person)
        if not create:
            raise DecryptionError(f"no data key was ever made for person {person}")
        key = os.urandom(32)
        self._insert(person, wrap_key(self._kek, key, person))
        found, wrapped = self._load(person)  # another writer may have won the race
        if not found or wrapped is None:
            raise DecryptionError(f"data key of person {person} vanished while being made")
        return unwrap_key(self._kek, wrapped, person)

    def is_erased(self, person: str) -> bool:
        found, wrapped = self._load(person)
        return found and wrapped is None

    @abstractmethod
    def _load(self, person: str) -> tuple[bool, bytes | None]: ...

    @abstractmethod
    def _insert(self, person: str, wrapped: bytes) -> None: ...

    @abstractmethod
    def destroy(self, person: str) -> None:
        """Destroy the person's key so that no copy remains in the database files."""

    def close(self) -> None:
        return None


class SQLitePersonKeys(PersonKeys):
    def __init__(self, kek: bytes, path: Path) -> None:
        super().__init__(kek)
        self._path = path
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._connect().execute(
                "CREATE TABLE IF NOT EXISTS person_keys ("
                " person TEXT PRIMARY KEY, wrapped BLOB, created_at TEXT NOT NULL,"
                " erased_at TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self._path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            self._local.conn = conn
            self._connections.append(conn)
        return conn

    def _load(self, person: str) -> tuple[bool, bytes | None]:
        row = (
            self._connect()
            .execute("SELECT wrapped FROM person_keys WHERE person = ?", (person,))
            .fetchone()
        )
        return (False, None) if row is None else (True, row[0])

    def _insert(self, person: str, wrapped: bytes) -> None:
        self._connect().execute(
            "INSERT OR IGNORE INTO person_keys (person, wrapped, created_at) VALUES (?, ?, ?)",
            (person, wrapped, datetime.now(UTC).isoformat()),
        )

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._local = threading.local()

    def destroy(self, person: str) -> None:
        with self._lock:
            conn = self._connect()
            conn.execute(
                "INSERT OR IGNORE INTO person_keys (person, wrapped, created_at)"
                " VALUES (?, NULL, ?)",
                (person, datetime.now(UTC).isoformat()),
            )
            conn.execute(
                "UPDATE person_keys SET wrapped = NULL, erased_at = ? WHERE person = ?",
                (datetime.now(UTC).isoformat(), person),
            )
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgresPersonKeys(PersonKeys):
    def __init__(self, kek: bytes, conninfo: str, schema: str) -> None:
        super().__init__(kek)
        self._table = psycopg.sql.Identifier(schema or "public", "ledger_person_keys")
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True
        )
        with self._pool.connection() as conn:
            conn.execute(
                psycopg.sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (person text PRIMARY KEY, wrapped bytea,"
                    " created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz)"
                ).format(self._table)
            )

    def _load(self, person: str) -> tuple[bool, bytes | None]:
        with self._pool.connection() as conn:
            row = conn.execute(
                psycopg.sql.SQL("SELECT wrapped FROM {} WHERE person = %s").format(self._table),
                (person,),
            ).fetchone()
        return (False, None) if row is None else (True, row[0])

    def _insert(self, person: str, wrapped: bytes) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                psycopg.sql.SQL(
                    "INSERT INTO {} (person, wrapped) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                ).format(self._table),
                (person, wrapped),
            )

    def destroy(self, person: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                psycopg.sql.SQL(
                    "INSERT INTO {} (person, wrapped, erased_at) VALUES (%s, NULL, now())"
                    " ON CONFLICT (person) DO UPDATE SET wrapped = NULL, erased_at = now()"
                ).format(self._table),
                (person,),
            )
            # The old row version holds the wrapped key until vacuumed.
            conn.execute(psycopg.sql.SQL("VACUUM FULL {}").format(self._table))

    def close(self) -> None:
        self._pool.close()
