"""Whether an error means the database is away (rather than that the request or the code is at
fault), and the last such failure this process met.

A request that fails because the database cannot be reached, is read-only, is out of space or
is too busy is answered 503 with Retry-After: nothing was written, and the same request may be
sent again. The event library wraps the drivers' errors in its own (`raise ... from`), so the
whole chain of causes is read, not only the error raised last.
"""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from dataclasses import dataclass

import psycopg
import psycopg_pool
from eventsourcing import persistence

from ledger.causes import chain

UNREACHABLE = "database-unreachable"
READ_ONLY = "database-read-only"
DISK_FULL = "disk-full"
BUSY = "database-busy"

DETAILS = {
    UNREACHABLE: "the database cannot be reached",
    READ_ONLY: "the database is read-only",
    DISK_FULL: "the disk is full",
    BUSY: "the database is too busy to answer in time",
}

# SQLSTATE codes (PostgreSQL appendix A). Class 08 is every connection exception.
_PG_UNREACHABLE = frozenset({"57P01", "57P02", "57P03"})  # shut down, crashed, starting up
_PG_READ_ONLY = "25006"  # read_only_sql_transaction (also a standby in recovery)
_PG_DISK_FULL = "53100"
_PG_BUSY = frozenset(
    {
        "53200",  # out of memory
        "53300",  # too many connections
        "53400",  # configuration limit exceeded
        "55P03",  # lock not available (lock_timeout)
        "57014",  # query cancelled (statement_timeout)
        "40001",  # serialization failure
        "40P01",  # deadlock detected
    }
)

# SQLite primary result codes (sqlite.org/rescode.html).
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_READONLY, _SQLITE_FULL, _SQLITE_CANTOPEN = 8, 13, 14


def unavailable_cause(exc: BaseException) -> str | None:
    """`database-unreachable`, `database-read-only`, `disk-full` or `database-busy` when `exc`,
    or any error it was raised from or while handling, says so; otherwise None."""
    wrapped_connection_error = False
    for error in chain(exc):
        cause = _cause_of(error)
        if cause is not None:
            return cause
        if isinstance(error, persistence.OperationalError | persistence.InterfaceError):
            wrapped_connection_error = True
    # The library's own connection errors, raised with no driver error behind them.
    return UNREACHABLE if wrapped_connection_error else None


def _cause_of(error: BaseException) -> str | None:
    if isinstance(error, psycopg.Error):
        return _postgres_cause(error)
    if isinstance(error, sqlite3.Error):
        return _sqlite_cause(error)
    if isinstance(error, OSError):
        return _os_cause(error)
    return None


def _postgres_cause(error: psycopg.Error) -> str | None:
    if isinstance(error, psycopg_pool.TooManyRequests):
        return BUSY
    if isinstance(error, psycopg_pool.PoolTimeout):
        return UNREACHABLE  # no connection could be had within the deadline
    state = error.sqlstate
    if state is None:
        # No answer from a server: refused, reset, closed, timed out while connecting.
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return UNREACHABLE
        return None
    if state.startswith("08") or state in _PG_UNREACHABLE:
        return UNREACHABLE
    if state == _PG_READ_ONLY:
        return READ_ONLY
    if state == _PG_DISK_FULL:
        return DISK_FULL
    if state in _PG_BUSY:
        return BUSY
    return None


def _sqlite_cause(error: sqlite3.Error) -> str | None:
    code = getattr(error, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    message = str(error).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in message:
        return DISK_FULL
    if primary == _SQLITE_READONLY or "readonly database" in message:
        return READ_ONLY
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in message:
        return BUSY
    if primary == _SQLITE_CANTOPEN or "unable to open database file" in message:
        return UNREACHABLE
    return None


def _os_cause(error: OSError) -> str | None:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return DISK_FULL
    if error.errno == errno.EROFS:
        return READ_ONLY
    return None


@dataclass(frozen=True)
class Failure:
    cause: str
    at: float
    """`time.monotonic()` when it happened."""


class FailureTracker:
    """The last time a request failed for want of the database, and the last time the
    database answered this process's readiness probe (process-wide, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, Failure] = {}
        self._last_success: float | None = None

    def failed(self, cause: str) -> None:
        with self._lock:
            self._failures[cause] = Failure(cause, time.monotonic())

    def succeeded(self) -> None:
        with self._lock:
            self._last_success = time.monotonic()

    def last_failure(self, cause: str | None = None) -> Failure | None:
        """The newest failure (of `cause`, if given)."""
        with self._lock:
            if cause is not None:
                return self._failures.get(cause)
            return max(self._failures.values(), key=lambda f: f.at, default=None)

    def recent(self, cause: str, within_s: float) -> bool:
        failure = self.last_failure(cause)
        return failure is not None and time.monotonic() - failure.at <= within_s

    def last_success(self) -> float | None:
        with self._lock:
            return self._last_success


TRACKER = FailureTracker()
