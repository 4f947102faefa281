"""Readiness: can this process take writes now? Answered within a deadline, whatever happens.

Each check runs on a small executor of its own, never on the request thread pool (requests stuck
on an unreachable database may have filled that), and is awaited only until the deadline; a
check still running then counts as failed, and is not started again until it returns, so
probes never pile up behind a hung database. The database and disk probes are reused for a
quarter of a second; the log's and projections' positions are read afresh for each answer.

Checks:
- `database`: a connection of its own (not from the shared pool, with its own short connect
  timeout) answers, and is not read-only; for SQLite, the file opens and is writable.
- `disk`: SQLite: the data directory's filesystem has at least `min_free_mb` free. PostgreSQL
  (whose disk this process cannot see): no write failed for want of space in the last seconds.
- `worker`: the background worker's thread is alive, when this process runs one.
- `log`: the log and every projection have caught up with what was stored at start-up, and
  afterwards stay within `MAX_LAG` records of the newest stored record.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ledger.api import availability
from ledger.config import Settings, parse_database_url
from ledger.db import Database
from ledger.views.sql import trackings
from ledger.worker import BackgroundWorker

MAX_LAG = 10_000
REUSE_S = 0.25
DISK_FULL_MEMORY_S = 10.0
PROBE_CONNECT_TIMEOUT_S = 2  # libpq's least


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **self.values}


class DatabaseProbe:
    """One connection of the probe's own; reopened after a failure."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: psycopg.Connection[Any] | None = None

    def __call__(self) -> CheckResult:
        if self.settings.database_url is None:
            return self._sqlite()
        try:
            return self._postgres()
        except psycopg.Error:
            self.close()
            # A connection that outlived a restart fails once; a fresh one says how things are.
            try:
                return self._postgres()
            except psycopg.Error as exc:
                self.close()
                cause = availability.unavailable_cause(exc) or availability.UNREACHABLE
                return CheckResult(False, availability.DETAILS[cause], {"cause": cause})

    def _postgres(self) -> CheckResult:
        if self._conn is None or self._conn.closed:
            assert self.settings.database_url is not None
            target = parse_database_url(self.settings.database_url)
            self._conn = psycopg.connect(
                target.conninfo(),
                autocommit=True,
                connect_timeout=PROBE_CONNECT_TIMEOUT_S,
                options="-c statement_timeout=1000",
            )
        row = self._conn.execute(
            "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')"
        ).fetchone()
        if row is not None and (row[0] or row[1] == "on"):
            cause = availability.READ_ONLY
            return CheckResult(False, availability.DETAILS[cause], {"cause": cause})
        return CheckResult(True, "answering")

    def _sqlite(self) -> CheckResult:
        path = self.settings.data_dir / "ledger.sqlite"
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            cause = availability.unavailable_cause(exc) or availability.UNREACHABLE
            return CheckResult(False, availability.DETAILS[cause], {"cause": cause})
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            cause = availability.READ_ONLY
            return CheckResult(False, availability.DETAILS[cause], {"cause": cause})
        return CheckResult(True, "answering")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def disk_check(settings: Settings) -> CheckResult:
    if settings.database_url is not None:
        if availability.TRACKER.recent(availability.DISK_FULL, DISK_FULL_MEMORY_S):
            return CheckResult(
                False, "a write failed for want of space", {"cause": availability.DISK_FULL}
            )
        return CheckResult(True, "no write failed for want of space")
    free_mb = free_space_mb(settings.data_dir)
    values = {"free_mb": free_mb, "min_free_mb": settings.min_free_mb}
    if free_mb < settings.min_free_mb:
        return CheckResult(
            False,
            f"{free_mb} MB free, {settings.min_free_mb} MB needed",
            {**values, "cause": availability.DISK_FULL},
        )
    return CheckResult(True, f"{free_mb} MB free", values)


def free_space_mb(directory: Path) -> int:
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize // (1024 * 1024)


def worker_check(worker: BackgroundWorker | None) -> CheckResult:
    if worker is None:
        return CheckResult(True, "not run by this process")
    if not worker.alive():
        return CheckResult(False, "the background worker has stopped")
    if worker.failing_since() is not None:
        return CheckResult(True, "retrying after a failure", {"active": worker.active.is_set()})
    return CheckResult(True, "running", {"active": worker.active.is_set()})


class LogCheck:
    """The log and projections against the newest stored record (and the start-up baseline,
    until they first reach it)."""

    def __init__(self, db: Database, baseline: int) -> None:
        self.db = db
        self.baseline = baseline
        self._caught_up = False

    def __call__(self) -> CheckResult:
        db = self.db
        with db.read() as tx:
            newest = int(
                tx.execute(f"SELECT max({db.nid}) FROM {db.events_table}").fetchone()[0] or 0
            )
            leaf = tx.execute(
                f"SELECT leaf_index, notification_id FROM {db.table('ledger_log_leaves')}"
                " ORDER BY leaf_index DESC LIMIT 1"
            ).fetchone()
            active = [t for t in trackings(tx, db) if t.active]
        size, sequenced = (0, 0) if leaf is None else (int(leaf[0]) + 1, int(leaf[1]))
        positions = {t.name: t.position for t in active}
        projected = min((t.notification_id for t in active), default=0)
        values: dict[str, Any] = {"log_size": size, "projections": positions}
        if not self._caught_up:
            if size < self.baseline or min(positions.values(), default=0) < self.baseline:
                return CheckResult(
                    False,
                    f"catching up: log at {size}, projections at"
                    f" {min(positions.values(), default=0)}, {self.baseline} stored at start",
                    values,
                )
            self._caught_up = True
        log_lag, projection_lag = newest - sequenced, newest - projected
        values.update(log_lag=log_lag, projection_lag=projection_lag)
        if max(log_lag, projection_lag) > MAX_LAG:
            return CheckResult(
                False,
                f"behind the newest record: log by {log_lag}, projections by {projection_lag}",
                values,
            )
        return CheckResult(True, "within bounds", values)


class _Slot:
    """One check: its call in flight (never two at once) and its last result."""

    def __init__(self, run: Callable[[], CheckResult], reuse_s: float) -> None:
        self.run = run
        self.reuse_s = reuse_s
        self.future: Future[CheckResult] | None = None
        self.result: CheckResult | None = None
        self.at = 0.0

    def start(self, executor: ThreadPoolExecutor) -> Future[CheckResult] | None:
        """The call to await, or None when the last result is fresh enough to reuse."""
        if self.future is not None and not self.future.done():
            return self.future
        if self.result is not None and time.monotonic() - self.at < self.reuse_s:
            return None
        self.future = executor.submit(self._timed)
        return self.future

    def _timed(self) -> CheckResult:
        try:
            result = self.run()
        except Exception as exc:  # a check that fails says why, as a failed check
            cause = availability.unavailable_cause(exc)
            detail = (
                availability.DETAILS[cause] if cause else f"check failed ({type(exc).__name__})"
            )
            result = CheckResult(False, detail, {"cause": cause} if cause else {})
        self.result, self.at = result, time.monotonic()
        return result


class Readiness:
    def __init__(self, checks: dict[str, tuple[Callable[[], CheckResult], float]], timeout_ms: int):
        self._slots = {name: _Slot(run, reuse) for name, (run, reuse) in checks.items()}
        self._deadline_s = timeout_ms / 1000 * 0.8  # the rest is for answering
        self._executor = ThreadPoolExecutor(len(checks), thread_name_prefix="ledger-readyz")
        self._lock = threading.Lock()

    async def check(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        with self._lock:
            futures = {name: slot.start(self._executor) for name, slot in self._slots.items()}
        await _until_decided(
            [asyncio.wrap_future(f) for f in futures.values() if f is not None], self._deadline_s
        )
        results: dict[str, dict[str, Any]] = {}
        for name, slot in self._slots.items():
            future = futures[name]
            if future is None and slot.result is not None:
                results[name] = slot.result.as_json()
            elif future is not None and future.done():
                results[name] = future.result().as_json()
            else:
                results[name] = CheckResult(False, "no answer yet").as_json()
        return all(r["ok"] for r in results.values()), results

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _until_decided(waiting: list[asyncio.Future[CheckResult]], within_s: float) -> None:
    """Wait for every check, or until one has failed (the answer is then known), or the end."""
    deadline = time.monotonic() + within_s
    pending = set(waiting)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        done, pending = await asyncio.wait(
            pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
        )
        if any(not future.result().ok for future in done):
            return


def readiness_for(
    settings: Settings, db: Database, worker: BackgroundWorker | None, baseline: int
) -> Readiness:
    probe = DatabaseProbe(settings)
    return Readiness(
        {
            "database": (probe, REUSE_S),
            "disk": (lambda: disk_check(settings), REUSE_S),
            "worker": (lambda: worker_check(worker), 0.0),
            "log": (LogCheck(db, baseline), 0.0),
        },
        settings.ready_timeout_ms,
    )
