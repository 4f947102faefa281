"""Each thread reads the records on an SQLite connection of its own, closed with the store."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from ledger.store.sqlite_reads import ThreadReaders


def _file(tmp_path: Path) -> str:
    path = tmp_path / "reads.sqlite"
    with sqlite3.connect(path) as made:
        made.execute("PRAGMA journal_mode = WAL")
        made.execute("CREATE TABLE t (n INTEGER)")
        made.execute("INSERT INTO t VALUES (1), (2)")
    return str(path)


def test_each_thread_reads_on_its_own_connection_and_sees_what_others_commit(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path)
    readers = ThreadReaders(path, 5.0)
    try:
        assert readers.rows("SELECT n FROM t ORDER BY n", ()) == [(1,), (2,)]
        mine = readers._connection()
        assert readers._connection() is mine
        theirs: list[sqlite3.Connection] = []
        other = threading.Thread(target=lambda: theirs.append(readers._connection()))
        other.start()
        other.join()
        assert theirs[0] is not mine
        with sqlite3.connect(path) as writer:  # a commit by another connection is read at once
            writer.execute("INSERT INTO t VALUES (3)")
        assert readers.rows("SELECT count(*) FROM t WHERE n > ?", (1,)) == [(2,)]
    finally:
        readers.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed: every connection it opened
        mine.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        theirs[0].execute("SELECT 1")


def test_no_new_connection_is_opened_once_closed(tmp_path: Path) -> None:
    readers = ThreadReaders(_file(tmp_path), 5.0)
    readers.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        readers.rows("SELECT n FROM t", ())
