"""`unavailable_cause` on errors raised by the real drivers, not made up: a closed port, a
read-only transaction, a read-only SQLite file, a full disk, a locked database; and the 503
answer built from them."""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
from pathlib import Path

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError as LibraryOperationalError

from ledger.api import availability
from ledger.api.availability import unavailable_cause
from ledger.api.problems import to_response
from ledger.domain.errors import NotFound
from ledger.logs import JsonFormatter, scrub
from tests.conftest import PG_ADMIN
from tests.e2e.conftest import free_port


def raised(action: object) -> BaseException:
    assert callable(action)
    try:
        action()
    except BaseException as exc:  # the error is what the test looks at
        return exc
    raise AssertionError("expected an error")


def test_a_closed_port_is_unreachable() -> None:
    port = free_port()
    error = raised(
        lambda: psycopg.connect(f"host=127.0.0.1 port={port} dbname=x", connect_timeout=2)
    )
    assert isinstance(error, psycopg.OperationalError)
    assert unavailable_cause(error) == "database-unreachable"


def test_the_library_wrapping_a_driver_error_is_read_through() -> None:
    port = free_port()

    def wrapped() -> None:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} dbname=x", connect_timeout=2)
        except psycopg.OperationalError as exc:
            raise LibraryOperationalError(str(exc)) from exc

    assert unavailable_cause(raised(wrapped)) == "database-unreachable"


def test_a_pool_that_cannot_connect_times_out_as_unreachable() -> None:
    port = free_port()
    with psycopg_pool.ConnectionPool(
        f"host=127.0.0.1 port={port} dbname=x", min_size=1, timeout=0.5, open=True
    ) as pool:
        error = raised(lambda: pool.getconn())
    assert isinstance(error, psycopg_pool.PoolTimeout)
    assert unavailable_cause(error) == "database-unreachable"


@pytest.mark.postgres
def test_a_write_in_a_read_only_transaction_is_read_only(pg_database: str) -> None:
    with psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={pg_database}")) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        error = raised(lambda: conn.execute("CREATE TABLE t_read_only (x int)"))
    assert isinstance(error, psycopg.errors.ReadOnlySqlTransaction)
    assert unavailable_cause(error) == "database-read-only"


@pytest.mark.postgres
def test_a_lock_timeout_is_busy(pg_database: str) -> None:
    conninfo = PG_ADMIN.replace("dbname=postgres", f"dbname={pg_database}")
    with psycopg.connect(conninfo) as holder, psycopg.connect(conninfo) as waiter:
        holder.execute("CREATE TABLE IF NOT EXISTS t_locked (x int)")
        holder.commit()
        holder.execute("LOCK TABLE t_locked IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '100ms'")
        error = raised(lambda: waiter.execute("SELECT * FROM t_locked"))
    assert isinstance(error, psycopg.errors.LockNotAvailable)
    assert unavailable_cause(error) == "database-busy"


def test_writing_a_read_only_sqlite_file_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    error = raised(lambda: reader.execute("INSERT INTO t VALUES (1)"))
    reader.close()
    assert unavailable_cause(error) == "database-read-only"


def test_a_full_sqlite_database_is_disk_full(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "small.sqlite")
    conn.execute("PRAGMA max_page_count = 8")  # SQLite's own SQLITE_FULL, no real disk needed
    conn.execute("CREATE TABLE t (x)")
    error = raised(lambda: conn.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,)))
    conn.close()
    assert "database or disk is full" in str(error)
    assert unavailable_cause(error) == "disk-full"


def test_a_locked_sqlite_database_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0.05)
    error = raised(lambda: other.execute("INSERT INTO t VALUES (1)"))
    other.close()
    holder.close()
    assert unavailable_cause(error) == "database-busy"


def test_no_space_left_is_disk_full() -> None:
    error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert unavailable_cause(error) == "disk-full"


def test_errors_that_are_not_about_the_database_have_no_cause(tmp_path: Path) -> None:
    assert unavailable_cause(raised(lambda: 1 / 0)) is None
    assert unavailable_cause(raised(lambda: (tmp_path / "absent").read_text())) is None
    syntax = raised(lambda: sqlite3.connect(":memory:").execute("SELEC 1"))
    assert unavailable_cause(syntax) is None


def test_an_outage_becomes_503_with_retry_after_and_a_cause() -> None:
    port = free_port()
    error = raised(
        lambda: psycopg.connect(f"host=127.0.0.1 port={port} dbname=x", connect_timeout=2)
    )
    assert isinstance(error, Exception)
    response = to_response(error, retry_after=7)
    body = json.loads(bytes(response.body))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.media_type == "application/problem+json"
    assert body["type"] == "https://ledger.efce.example/problems/unavailable"
    assert body["title"] == "Service unavailable"
    assert body["cause"] == "database-unreachable"
    assert body["detail"].startswith("the database cannot be reached")
    failure = availability.TRACKER.last_failure("database-unreachable")
    assert failure is not None


def test_a_domain_error_raised_while_handling_an_outage_keeps_its_own_answer() -> None:
    def not_found_during_outage() -> None:
        try:
            raise OSError(errno.ENOSPC, "no space")
        except OSError:
            raise NotFound("person", "p-1") from None

    error = raised(not_found_during_outage)
    assert isinstance(error, Exception)
    assert to_response(error).status_code == 404


def test_an_unknown_error_is_still_500() -> None:
    error = raised(lambda: 1 / 0)
    assert isinstance(error, Exception)
    assert to_response(error).status_code == 500


def test_a_log_line_carries_the_traceback_without_personal_data() -> None:
    def fails() -> None:
        raise ValueError(
            "Key (email)=(ona@example.org) already exists; Authorization: Bearer abc.def"
        )

    error = raised(fails)
    record = logging.LogRecord(
        "ledger.api", logging.ERROR, __file__, 1, "request failed", None, None
    )
    record.exc_info = (type(error), error, error.__traceback__)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["error"] == "ValueError"
    assert "in fails" in entry["traceback"]
    assert "ona@example.org" not in entry["traceback"]
    assert "abc.def" not in entry["traceback"]
    assert scrub("password=hunter2 next") == "password=[redacted] next"
