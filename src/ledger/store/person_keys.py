"""Per-person data keys, kept outside the event log and wrapped by a key-encryption key.

Erasure overwrites the wrapped key with nothing and records when; the rows of the event log
are untouched, so every signature and chain link still verifies while the personal fields can
no longer be read. SQLite keeps the keys in their own file with `secure_delete` on and the
WAL truncated after an erasure; PostgreSQL keeps them in their own table, vacuumed after one.

A ledger restored from an auditor bundle holds no data keys (bundles never carry them): its
people's personal fields are "not available here" until the data-key backup is restored
(`ledger keys restore-data-keys`), which inserts the wrapped keys it lacks.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg_pool import ConnectionPool

from ledger.domain.errors import Conflict
from ledger.integrity.errors import DecryptionError
from ledger.integrity.personal import kek_fingerprint, unwrap_key, wrap_key

RESTORE_HINT = (
    "restore the data-key backup with `ledger keys restore-data-keys FILE` (with this"
    " ledger's key-encryption key in place), then try again"
)


class PersonalDataUnavailable(Conflict):
    """This ledger holds no data key for `person`: it was restored without its data keys, so
    the person's records verify but their personal data can be neither read nor added."""

    def __init__(self, person: str) -> None:
        self.person = person
        super().__init__(
            f"the personal data of person {person} is not available in this ledger (it was"
            f" restored without its data keys): {RESTORE_HINT}"
        )


class PersonKeys(ABC):
    """Contract: `key_for` returns the data key, None once erased, and raises
    `PersonalDataUnavailable` when this store holds none (a ledger restored without its data
    keys); `DecryptionError` when a held key does not unwrap under this store's KEK."""

    def __init__(self, kek: bytes) -> None:
        self._kek = kek

    @property
    def kek_fingerprint(self) -> str:
        """Names the key-encryption key without revealing it (data-key backups carry it)."""
        return kek_fingerprint(self._kek)

    def key_for(self, person: str, *, create: bool = False) -> bytes | None:
        return self.keys_for({person: create})[person]

    def keys_for(self, wanted: Mapping[str, bool]) -> dict[str, bytes | None]:
        """`key_for` of many people at once, `wanted` mapping each to `create`: one read, and
        for people without a row one insert and one more read. Raises as `key_for` does."""
        loaded = self._load_many(list(wanted))
        missing = [person for person in wanted if person not in loaded]
        for person in missing:
            if not wanted[person]:
                raise PersonalDataUnavailable(person)
        if missing:
            self._insert_many([(p, wrap_key(self._kek, os.urandom(32), p)) for p in missing])
            made = self._load_many(missing)  # another writer may have won the race
            for person in missing:
                if made.get(person) is None:
                    raise DecryptionError(f"data key of person {person} vanished while being made")
            loaded.update(made)
        return {
            person: None if wrapped is None else unwrap_key(self._kek, wrapped, person)
            for person, wrapped in loaded.items()
        }

    def held_keys(self, people: Sequence[str]) -> dict[str, bytes | None]:
        """Of `people`, those this store holds a row for, with their data key (None once
        erased), in one read; nothing is made and nothing raised for people without a row."""
        return {
            person: None if wrapped is None else unwrap_key(self._kek, wrapped, person)
            for person, wrapped in self._load_many(list(people)).items()
        }

    def is_erased(self, person: str) -> bool:
        found, wrapped = self._load(person)
        return found and wrapped is None

    def check_wrapped(self, person: str, wrapped: bytes) -> None:
        """Raise `DecryptionError` unless `wrapped` unwraps under this store's KEK for
        `person` (a wrapped key is bound to its person id)."""
        unwrap_key(self._kek, wrapped, person)

    def held(self, batch: int = 1000) -> Iterator[list[tuple[str, bytes]]]:
        """Every data key still held, wrapped, in batches ordered by person id."""
        after = ""
        while rows := self._held_after(after, batch):
            yield rows
            after = rows[-1][0]

    def restore(self, entries: Sequence[tuple[str, bytes]]) -> tuple[int, set[str]]:
        """Insert the wrapped keys of people this store has no row for. A row already there
        wins, erased (no key) or not, whatever the order of a concurrent erasure. Returns
        how many were inserted and the people whose row was erased already."""
        present = self._load_many([person for person, _ in entries])
        erased = {person for person, wrapped in present.items() if wrapped is None}
        inserted = self._insert_many([entry for entry in entries if entry[0] not in present])
        return inserted, erased

    @abstractmethod
    def _load(self, person: str) -> tuple[bool, bytes | None]: ...

    @abstractmethod
    def _insert_many(self, entries: Sequence[tuple[str, bytes]]) -> int:
        """Insert each unless its person has a row, in one transaction; how many were
        inserted."""

    @abstractmethod
    def count_held(self) -> int:
        """How many data keys are held (erased people not counted)."""

    @abstractmethod
    def _held_after(self, person: str, limit: int) -> list[tuple[str, bytes]]: ...

    @abstractmethod
    def _load_many(self, people: Sequence[str]) -> dict[str, bytes | None]:
        """Of `people`, those with a row, and its wrapped key (None once erased)."""

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

    def _insert_many(self, entries: Sequence[tuple[str, bytes]]) -> int:
        conn = self._connect()
        created_at = datetime.now(UTC).isoformat()
        inserted = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for person, wrapped in entries:
                inserted += conn.execute(
                    "INSERT OR IGNORE INTO person_keys (person, wrapped, created_at)"
                    " VALUES (?, ?, ?)",
                    (person, wrapped, created_at),
                ).rowcount
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return inserted

    def count_held(self) -> int:
        row = (
            self._connect()
            .execute("SELECT count(*) FROM person_keys WHERE wrapped IS NOT NULL")
            .fetchone()
        )
        return int(row[0])

    def _held_after(self, person: str, limit: int) -> list[tuple[str, bytes]]:
        rows = (
            self._connect()
            .execute(
                "SELECT person, wrapped FROM person_keys"
                " WHERE wrapped IS NOT NULL AND person > ? ORDER BY person LIMIT ?",
                (person, limit),
            )
            .fetchall()
        )
        return [(str(p), bytes(w)) for p, w in rows]

    def _load_many(self, people: Sequence[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        conn = self._connect()
        for start in range(0, len(people), 500):  # within SQLite's limit of bound parameters
            chunk = people[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for person, wrapped in conn.execute(
                f"SELECT person, wrapped FROM person_keys WHERE person IN ({marks})", chunk
            ):
                found[str(person)] = None if wrapped is None else bytes(wrapped)
        return found

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

    def _insert_many(self, entries: Sequence[tuple[str, bytes]]) -> int:
        query = psycopg.sql.SQL(
            "INSERT INTO {} (person, wrapped) VALUES (%s, %s) ON CONFLICT DO NOTHING"
        ).format(self._table)
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(query, entries)  # pipelined: one round trip, not one per key
            return cursor.rowcount

    def count_held(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {} WHERE wrapped IS NOT NULL").format(
                    self._table
                )
            ).fetchone()
        return int(row[0]) if row else 0

    def _held_after(self, person: str, limit: int) -> list[tuple[str, bytes]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                psycopg.sql.SQL(
                    "SELECT person, wrapped FROM {} WHERE wrapped IS NOT NULL"
                    ' AND person COLLATE "C" > %s ORDER BY person COLLATE "C" LIMIT %s'
                ).format(self._table),
                (person, limit),
            ).fetchall()
        return [(str(p), bytes(w)) for p, w in rows]

    def _load_many(self, people: Sequence[str]) -> dict[str, bytes | None]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                psycopg.sql.SQL("SELECT person, wrapped FROM {} WHERE person = ANY(%s)").format(
                    self._table
                ),
                (list(people),),
            ).fetchall()
        return {
            str(person): None if wrapped is None else bytes(wrapped) for person, wrapped in rows
        }

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
