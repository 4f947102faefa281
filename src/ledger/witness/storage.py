"""The witness's own small database (SQLite): per log, the latest cosigned checkpoint; and the
evidence of every refused conflicting checkpoint.

    witness_state(origin, tree_size, root, note, cosigned_at)
        note: the checkpoint as cosigned, with the log's verified signatures and the
        witness's cosignature (what `GET /<origin hash>/checkpoint` serves)
    witness_evidence(id, origin, kind, reason, received_at, old_size, proof, submitted_note,
                     cosigned_note)
        submitted_note: the refused checkpoint, as signed by the log; cosigned_note: the
        checkpoint the witness had cosigned when it refused it. Two notes signed by one log key
        that cannot both be true are evidence anyone can check.

Checking the old size and storing the new checkpoint happen in one `BEGIN IMMEDIATE`
transaction, so two requests can never roll the state back (C2SP tlog-witness).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CosignedState:
    origin: str
    size: int
    root: bytes
    note: str
    cosigned_at: int


@dataclass(frozen=True)
class Evidence:
    origin: str
    kind: str
    reason: str
    received_at: int
    old_size: int
    proof: tuple[str, ...]
    submitted_note: str
    cosigned_note: str | None
    id: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "origin": self.origin,
            "kind": self.kind,
            "reason": self.reason,
            "received_at": self.received_at,
            "old_size": self.old_size,
            "proof": list(self.proof),
            "submitted_note": self.submitted_note,
            "cosigned_note": self.cosigned_note,
        }


class WitnessTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.c = conn

    def state(self, origin: str) -> CosignedState | None:
        row = self.c.execute(
            "SELECT origin, tree_size, root, note, cosigned_at FROM witness_state WHERE origin = ?",
            (origin,),
        ).fetchone()
        return None if row is None else CosignedState(row[0], row[1], bytes(row[2]), row[3], row[4])

    def save_state(self, state: CosignedState) -> None:
        self.c.execute(
            "INSERT INTO witness_state (origin, tree_size, root, note, cosigned_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET"
            " tree_size = excluded.tree_size, root = excluded.root, note = excluded.note,"
            " cosigned_at = excluded.cosigned_at",
            (state.origin, state.size, state.root, state.note, state.cosigned_at),
        )

    def add_evidence(self, evidence: Evidence) -> None:
        self.c.execute(
            "INSERT INTO witness_evidence (origin, kind, reason, received_at, old_size, proof,"
            " submitted_note, cosigned_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                evidence.origin,
                evidence.kind,
                evidence.reason,
                evidence.received_at,
                evidence.old_size,
                "\n".join(evidence.proof),
                evidence.submitted_note,
                evidence.cosigned_note,
            ),
        )


class WitnessStorage:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(
            "CREATE TABLE IF NOT EXISTS witness_state (origin TEXT PRIMARY KEY,"
            " tree_size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,"
            " cosigned_at INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS witness_evidence (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " origin TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,"
            " received_at INTEGER NOT NULL, old_size INTEGER NOT NULL, proof TEXT NOT NULL,"
            " submitted_note TEXT NOT NULL, cosigned_note TEXT);"
        )

    @contextmanager
    def transaction(self) -> Iterator[WitnessTransaction]:
        """One serialised transaction (also against other processes on the same file)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield WitnessTransaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def state(self, origin: str) -> CosignedState | None:
        with self._lock:
            return WitnessTransaction(self._conn).state(origin)

    def states(self) -> list[CosignedState]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT origin, tree_size, root, note, cosigned_at FROM witness_state"
                " ORDER BY origin"
            ).fetchall()
        return [CosignedState(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        query = (
            "SELECT id, origin, kind, reason, received_at, old_size, proof, submitted_note,"
            " cosigned_note FROM witness_evidence"
        )
        params: tuple[str, ...] = ()
        if origin is not None:
            query += " WHERE origin = ?"
            params = (origin,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id", params).fetchall()
        return [
            Evidence(
                origin=r[1],
                kind=r[2],
                reason=r[3],
                received_at=r[4],
                old_size=r[5],
                proof=tuple(filter(None, str(r[6]).split("\n"))),
                submitted_note=r[7],
                cosigned_note=r[8],
                id=r[0],
            )
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
