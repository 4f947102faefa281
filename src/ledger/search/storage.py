"""The people search index in the ledger's own database: tokens, erased people, progress.

`search_tokens` holds (token, person_id, exact): a keyed hash and the person's id, nothing
personal in clear. Its primary key (token, person_id) is the index a search reads; a second
index, on person_id, lets an erasure delete the person's rows at once. `search_erased` lists
erased people, so that no later write (an indexer that read the person a moment before the
erasure) brings them back. `search_progress` records the last event the indexer has read and
which index key built the rows. Writers are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
a transaction-level advisory lock), so an erasure and an indexing write never interleave.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import psycopg

from ledger.config import parse_database_url
from ledger.db import Database, Tx

PROGRESS_NAME = "people"
# PostgreSQL advisory lock (two-key form, its own space): held by every index writer.
WRITE_LOCK = (0x534541, 0x524348)  # "SEA", "RCH"


class IndexStorage:
    def __init__(self, db: Database, key_check: str) -> None:
        self.db = db
        self.tokens = db.table("search_tokens")
        self.erased = db.table("search_erased")
        self.progress = db.table("search_progress")
        self._create(key_check)

    def _create(self, key_check: str) -> None:
        with self.db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tokens} (token TEXT NOT NULL,"
                " person_id TEXT NOT NULL, exact INTEGER NOT NULL, PRIMARY KEY (token, person_id))"
            )
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS search_tokens_person ON {self.tokens} (person_id)"
            )
            tx.execute(f"CREATE TABLE IF NOT EXISTS {self.erased} (person_id TEXT PRIMARY KEY)")
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.progress} (name TEXT PRIMARY KEY,"
                " notification_id BIGINT NOT NULL, key_check TEXT NOT NULL)"
            )
            row = tx.execute(
                f"SELECT key_check FROM {self.progress} WHERE name = ?", (PROGRESS_NAME,)
            ).fetchone()
            if row is None:
                tx.execute(
                    f"INSERT INTO {self.progress} (name, notification_id, key_check)"
                    " VALUES (?, 0, ?)",
                    (PROGRESS_NAME, key_check),
                )
            elif row[0] != key_check:
                # Built under another index key: its tokens can never match; build it again.
                self._clear(tx)
                tx.execute(
                    f"UPDATE {self.progress} SET key_check = ? WHERE name = ?",
                    (key_check, PROGRESS_NAME),
                )

    @contextmanager
    def _writing(self) -> Iterator[Tx]:
        with self.db.write() as tx:
            if self.db.postgres:
                tx.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK[0]}, {WRITE_LOCK[1]})")
            yield tx

    # -- writing ---------------------------------------------------------------------------

    def put(self, people: Mapping[str, Mapping[str, bool]]) -> list[str]:
        """Replace the tokens of each person (id -> {token: exact}); erased people are left
        out. Returns the ids indexed."""
        if not people:
            return []
        with self._writing() as tx:
            ids = list(people)
            marks = ", ".join("?" * len(ids))
            gone = {
                row[0]
                for row in tx.execute(
                    f"SELECT person_id FROM {self.erased} WHERE person_id IN ({marks})", ids
                ).fetchall()
            }
            kept = [person for person in ids if person not in gone]
            tx.executemany(f"DELETE FROM {self.tokens} WHERE person_id = ?", [(p,) for p in kept])
            tx.executemany(
                f"INSERT INTO {self.tokens} (token, person_id, exact) VALUES (?, ?, ?)",
                [
                    (token, person, int(exact))
                    for person in kept
                    for token, exact in people[person].items()
                ],
            )
        return kept

    def erase(self, person_id: str) -> None:
        """Remove the person from the index now and for good, leaving none of their tokens in
        the database files: SQLite overwrites the deleted rows (`secure_delete`) and moves the
        WAL into the file; PostgreSQL rewrites the table without the dead rows."""
        self.db.secure_delete(True)
        try:
            with self._writing() as tx:
                tx.execute(
                    f"INSERT INTO {self.erased} (person_id) VALUES (?) ON CONFLICT DO NOTHING",
                    (person_id,),
                )
                tx.execute(f"DELETE FROM {self.tokens} WHERE person_id = ?", (person_id,))
        finally:
            self.db.secure_delete(False)
        if self.db.postgres:
            with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                conn.execute(f"VACUUM FULL {self.tokens}")  # type: ignore[arg-type]
        else:
            self.db.checkpoint_wal()

    def _conninfo(self) -> str:
        url = self.db.settings.database_url
        assert url is not None
        return parse_database_url(url).conninfo()

    def _clear(self, tx: Tx) -> None:
        tx.execute(f"DELETE FROM {self.tokens}")
        tx.execute(
            f"UPDATE {self.progress} SET notification_id = 0 WHERE name = ?", (PROGRESS_NAME,)
        )

    def clear(self) -> None:
        """Empty the index and start reading the events again from the first (erasures are
        kept)."""
        with self._writing() as tx:
            self._clear(tx)

    def advance(self, notification_id: int) -> None:
        with self._writing() as tx:
            tx.execute(
                f"UPDATE {self.progress} SET notification_id = ?"
                " WHERE name = ? AND notification_id < ?",
                (notification_id, PROGRESS_NAME, notification_id),
            )

    # -- reading ---------------------------------------------------------------------------

    def position(self) -> int:
        """The notification id of the last event the indexer has stored as read."""
        with self.db.statement() as tx:
            row = tx.execute(
                f"SELECT notification_id FROM {self.progress} WHERE name = ?", (PROGRESS_NAME,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def matching_all(self, tokens: Sequence[str], limit: int) -> list[str]:
        """People holding every token, those matching more of them as whole words first."""
        if not tokens or limit < 1:
            return []
        marks = ", ".join("?" * len(tokens))
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT person_id FROM {self.tokens} WHERE token IN ({marks})"
                " GROUP BY person_id HAVING COUNT(*) = ?"
                " ORDER BY SUM(exact) DESC, person_id LIMIT ?",
                [*tokens, len(tokens), limit],
            ).fetchall()
        return [str(row[0]) for row in rows]

    def matching_any(self, tokens: Sequence[str]) -> list[str]:
        """People holding at least one of the tokens."""
        if not tokens:
            return []
        marks = ", ".join("?" * len(tokens))
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT DISTINCT person_id FROM {self.tokens} WHERE token IN ({marks})"
                " ORDER BY person_id",
                list(tokens),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def holders(self, tokens: Sequence[str]) -> dict[str, set[str]]:
        """Each of the tokens with the people holding it (an empty set for none), read at once."""
        found: dict[str, set[str]] = {token: set() for token in tokens}
        with self.db.read() as tx:
            for start in range(0, len(tokens), 500):  # within SQLite's limit of parameters
                chunk = tokens[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                for token, person_id in tx.execute(
                    f"SELECT token, person_id FROM {self.tokens} WHERE token IN ({marks})",
                    list(chunk),
                ).fetchall():
                    found[str(token)].add(str(person_id))
        return found

    def is_erased(self, person_id: str) -> bool:
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT 1 FROM {self.erased} WHERE person_id = ?", (person_id,)
            ).fetchone()
        return row is not None
