"""Commits of what the records alone determine (projection batches, log leaves) do not wait for
the disk on SQLite; every other commit does, and the setting never leaks from one to the next."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.db import Database
from tests.conftest import make_settings

FULL, NORMAL = 2, 1


def _synchronous(db: Database) -> int:
    with db.statement() as tx:
        return int(tx.execute("PRAGMA synchronous").fetchone()[0])


def _insert_then_fail(db: Database) -> None:
    with db.write(durable=False) as tx:
        tx.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("a handler failed")


def test_a_write_not_durable_is_so_for_its_own_transaction_only(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings("sqlite", tmp_path, request)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings)
    try:
        with db.write() as tx:
            tx.execute("CREATE TABLE t (n INTEGER)")
        assert _synchronous(db) == FULL
        with db.write(durable=False) as tx:
            assert int(tx.execute("PRAGMA synchronous").fetchone()[0]) == NORMAL
            tx.execute("INSERT INTO t VALUES (1)")
        assert _synchronous(db) == FULL
        with pytest.raises(RuntimeError):
            _insert_then_fail(db)
        assert _synchronous(db) == FULL  # rolled back, and durable again
        with db.statement() as tx:
            assert tx.execute("SELECT n FROM t").fetchall() == [(1,)]
    finally:
        db.close()
