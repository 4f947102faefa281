"""PostgreSQL notifications between the ledger's processes, so that none waits out a poll.

As deployed on PostgreSQL, API processes serve requests and a separate `ledger worker` sequences
the log and runs the projections. Two waits cross that line:

- the worker waits for new events: the event store notifies its channel with every insert
  (the event library does), and the worker listens to it and starts its next batch at once;
- a request waits for its events to be in the read models (read-your-writes): each batch the
  runner commits notifies where every projection now stands (`projected_channel`), and the API
  processes listen, so a waiting request is answered as soon as the batch commits.

A notification is only a hint: everyone still polls, more slowly, so a listener that lost its
connection (a database restart) costs latency, never an answer. The listener reconnects by
itself, with a growing pause, and logs when it loses and regains the database.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from psycopg import sql

from ledger.config import Settings, parse_database_url
from ledger.db import connect_timeout

log = logging.getLogger("ledger.notices")
WAKE_S = 1.0
"""How often the listener looks up from its connection to see whether it is to stop."""
MAX_PAUSE_S = 5.0


def projected_channel(schema: str) -> str:
    """The channel where the runner tells how far the projections of `schema` have come: one
    per ledger (schemas share a database), short enough for an identifier."""
    return "ledger_projected_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class Listener:
    """A thread listening to `channels` on a connection of its own, calling each channel's
    function with the payload of every notification (in the listener's thread: it must be
    quick and must not raise)."""

    def __init__(
        self, settings: Settings, channels: Mapping[str, Callable[[str], None]], name: str
    ) -> None:
        if settings.database_url is None:
            raise ValueError("notifications need PostgreSQL")
        self._conninfo = parse_database_url(settings.database_url).conninfo()
        self._timeout = connect_timeout(settings)
        self._channels = dict(channels)
        self._stop = threading.Event()
        self.listening = threading.Event()
        """Set while connected and listening (for tests and readiness)."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._failures = 0

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = WAKE_S + 5) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                self.listening.clear()
                if self._failures == 0:
                    log.warning("stopped listening for notifications; retrying", exc_info=True)
                self._failures += 1
                self._stop.wait(min(0.1 * 2 ** min(self._failures, 10), MAX_PAUSE_S))

    def _listen(self) -> None:
        with psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=self._timeout
        ) as conn:
            for channel in self._channels:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.listening.set()
            if self._failures:
                log.info("listening for notifications again after %d failures", self._failures)
                self._failures = 0
            while not self._stop.is_set():
                for notice in conn.notifies(timeout=WAKE_S):
                    heard = self._channels.get(notice.channel)
                    if heard is not None:
                        heard(notice.payload)
                    if self._stop.is_set():
                        break
        self.listening.clear()
