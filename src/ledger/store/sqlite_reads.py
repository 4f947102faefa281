"""One connection per thread for the records' reads on an SQLite file, outside the library's pool.

The library hands out its SQLite connections from a pool with a queue for fairness, a count of
readers and writers and a lock per step, and a context manager around each: for one indexed
SELECT (a command's fast-forward read) that is several times the work of the statement itself.
A connection kept by each thread for its own reads needs none of it: in autocommit mode each
statement is a read transaction of its own and sees one snapshot, as through the pool, and
SQLite's write-ahead log lets it read while another connection writes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any


class ThreadReaders:
    """Read-only use of an SQLite file, each thread on a connection of its own."""

    def __init__(self, path: str, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def rows(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """Every row of one SELECT, as tuples."""
        return self._connection().execute(statement, params).fetchall()

    def _connection(self) -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if found is not None:
            return found
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the ledger's SQLite reads are closed")
            made = sqlite3.connect(
                self.path,
                uri=True,
                timeout=self.timeout_s,
                isolation_level=None,  # autocommit: each statement its own read transaction
                check_same_thread=False,  # closed by whichever thread closes the store
            )
            self._opened.append(made)
        self._local.connection = made
        return made

    def close(self) -> None:
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
