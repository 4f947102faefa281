"""The background work: the log sequencer, the projection runner and the people indexer, one
active instance.

On PostgreSQL the active instance holds a session advisory lock; others wait as hot standbys
and take over within a second when it goes. On SQLite a lock file next to the database does the
same for processes on one machine.

The worker outlives any outage of the database: a failure is logged once (with its traceback)
when an outage begins and once more when work resumes, and in between it retries with a growing
pause. A PostgreSQL restart ends the session holding the lock, so after a failure the worker
makes sure it still holds it before carrying on.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from pathlib import Path
from typing import IO

import psycopg

from ledger.config import parse_database_url
from ledger.db import connect_timeout
from ledger.notices import Listener
from ledger.runtime import Runtime

log = logging.getLogger("ledger.worker")
WORKER_LOCK_KEY = 0x1ED6E8
MAX_PAUSE_S = 5.0


class _Outage:
    """A run of consecutive failures: logged when it begins and when it ends, not each time."""

    def __init__(self) -> None:
        self.failures = 0
        self.since: float | None = None

    def failed(self, what: str) -> float:
        """Note a failure (call from an `except` block); the pause before trying again."""
        if self.failures == 0:
            self.since = time.monotonic()
            log.exception("%s failed; retrying until it succeeds", what)
        self.failures += 1
        return float(min(0.1 * 2 ** min(self.failures, 10), MAX_PAUSE_S))

    def recovered(self) -> None:
        if self.failures:
            lasted = time.monotonic() - (self.since or time.monotonic())
            log.info("background work resumed after %d failures in %.1f s", self.failures, lasted)
        self.failures = 0
        self.since = None


class _Leadership:
    """Try to become the single active worker; `release` gives the role up."""

    def __init__(self, runtime: Runtime) -> None:
        self.settings = runtime.settings
        self._conn: psycopg.Connection | None = None  # type: ignore[type-arg]
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self.settings.database_url is not None:
            if self._conn is None or self._conn.closed:
                target = parse_database_url(self.settings.database_url)
                self._conn = psycopg.connect(
                    target.conninfo(),
                    autocommit=True,
                    connect_timeout=connect_timeout(self.settings),
                )
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (WORKER_LOCK_KEY,)
            ).fetchone()
            return bool(row and row[0])
        path = Path(self.settings.data_dir) / "worker.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def held(self) -> bool:
        if self.settings.database_url is None:
            return self._file is not None
        try:
            return (
                self._conn is not None
                and not self._conn.closed
                and bool(self._conn.execute("SELECT 1").fetchone())
            )
        except psycopg.Error:
            return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


class BackgroundWorker:
    def __init__(self, runtime: Runtime, poll: float = 0.05, *, listen: bool = False) -> None:
        """`listen`: on PostgreSQL, start each batch when the event store notifies an insert
        (a worker of its own, `ledger worker`); a worker inside an API process is woken by
        the commands of that process instead (`wake`), and polls for those of others."""
        self.runtime = runtime
        self.poll = poll
        self.listen = listen
        self.stop_event = threading.Event()
        self.active = threading.Event()
        self.caught_up = threading.Event()
        self._wake = threading.Event()
        self._outage = _Outage()
        self._thread = threading.Thread(target=self._main, name="ledger-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New events were committed in this process: sequence and project them now rather
        than at the next poll."""
        self._wake.set()

    def alive(self) -> bool:
        """The worker's thread is running (active or standing by)."""
        return self._thread.is_alive()

    def failing_since(self) -> float | None:
        """`time.monotonic()` when its current run of failures began; None while it works."""
        return self._outage.since

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self._wake.set()
        self._thread.join(timeout)

    def _main(self) -> None:
        leadership = _Leadership(self.runtime)
        try:
            while not self.stop_event.is_set():
                try:
                    acquired = leadership.acquire()
                except Exception:
                    leadership.release()
                    self.stop_event.wait(self._outage.failed("taking the worker lock"))
                    continue
                if not acquired:
                    self._outage.recovered()
                    self.stop_event.wait(1.0)  # a standby: another instance is active
                    continue
                log.info("worker active")
                self.active.set()
                try:
                    self._work(leadership)
                finally:
                    self.active.clear()
        finally:
            leadership.release()

    def _work(self, leadership: _Leadership) -> None:
        witnessing = self._start_witnessing()
        listener = self._listen_for_events()
        try:
            self._sequence_and_project(leadership)
        finally:
            if listener is not None:
                listener.stop()
            if witnessing is not None:
                witnessing[0].set()
                witnessing[1].join(15)

    def _listen_for_events(self) -> Listener | None:
        """On PostgreSQL, the event store notifies its channel with every insert: heard, the
        next batch starts at once, whichever process committed the events (ledger.notices)."""
        channel = getattr(self.runtime.store.app.recorder, "channel_name", None)
        if not self.listen or not self.runtime.db.postgres or channel is None:
            return None
        wake = self._wake.set
        return Listener(
            self.runtime.settings, {channel: lambda _payload: wake()}, "ledger-worker-events"
        ).start()

    def _start_witnessing(self) -> tuple[threading.Event, threading.Thread] | None:
        """Witness submission runs on its own thread: a slow witness never delays the log."""
        if self.runtime.witnessing is None:
            return None
        stop = threading.Event()
        thread = threading.Thread(
            target=self.runtime.witnessing.run, args=(stop,), name="ledger-witnessing", daemon=True
        )
        thread.start()
        return stop, thread

    def _sequence_and_project(self, leadership: _Leadership) -> None:
        # On SQLite each step writes in the process's turn (ledger.store.turns), between group
        # commits, rather than finding the file locked and backing off; and the API's commands
        # are in this process, so each group commit brings the projections up to its events
        # before answering (ledger.store.group_commit).
        committer = self.runtime.store.committer
        if self.runtime.db.postgres:
            self._loop(leadership, contextlib.nullcontext())
            return
        committer.after = self.runtime.runner.run_all_once
        try:
            self._loop(leadership, committer.turn())
        finally:
            committer.after = None

    def _loop(
        self, leadership: _Leadership, turn: contextlib.AbstractContextManager[object]
    ) -> None:
        sequencer, runner, indexer = (
            self.runtime.sequencer,
            self.runtime.runner,
            self.runtime.indexer,
        )
        checks = 0
        postgres = self.runtime.db.postgres
        while not self.stop_event.is_set():
            try:
                with turn:
                    busy = sequencer.sequence_once() > 0
                with turn:
                    sequencer.checkpoint()
                # SQLite: each group commit projects its own events, so a read first spares
                # the turn to write when (as mostly) nothing is left.
                if postgres or runner.behind():
                    with turn:
                        busy = runner.run_all_once() > 0 or busy
                with turn:
                    busy = indexer.run_once() > 0 or busy
            except Exception:
                self.stop_event.wait(self._outage.failed("background batch"))
                if not leadership.held():  # a restarted database ended the lock's session
                    log.warning("worker lost its lock; standing by")
                    leadership.release()
                    return
                continue
            self._outage.recovered()
            if not busy:
                self.caught_up.set()
                self._wake.wait(self.poll)
                self._wake.clear()
            checks += 1
            if checks % 100 == 0 and not leadership.held():
                log.warning("worker lost its lock; standing by")
                leadership.release()
                return
