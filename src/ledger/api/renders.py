"""Costly public answers (PDFs, signed credentials, offline bundles): rendered once per state
of the log, and fresh renders rationed per client.

An answer is cached under the log size and checkpoint size it reflects, so it is reused until
the ledger changes. Requests for one answer that is being rendered wait for that render rather
than start their own; at most `concurrent` renders run at once; a client that asks for more than
`per_minute` fresh renders in a minute is answered 429 with Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

WINDOW = 60.0


class RenderRefused(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many fresh renders; try again in {retry_after} seconds")


class RenderBudget:
    """At most `per_minute` renders per client in any WINDOW seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._taken: dict[str, deque[float]] = {}

    def take(self, client: str) -> int:
        """0 when the client may render now (and counts it); else seconds until it may."""
        now = time.monotonic()
        with self._lock:
            taken = self._taken.setdefault(client, deque())
            while taken and now - taken[0] > WINDOW:
                taken.popleft()
            if len(taken) >= self.per_minute:
                return max(int(WINDOW - (now - taken[0])) + 1, 1)
            taken.append(now)
            if len(self._taken) > 100_000:
                self._taken = {client: taken}
        return 0


class RenderCache:
    def __init__(self, budget: RenderBudget, max_entries: int = 256, concurrent: int = 2) -> None:
        self.budget = budget
        self.max_entries = max_entries
        self._renders = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._pending: dict[Hashable, threading.Lock] = {}

    def _cached(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
            return found

    def answer(
        self,
        key: Hashable,
        client: str,
        render: Callable[[], bytes],
        rendered: Callable[[], None] = lambda: None,
    ) -> bytes:
        """The cached answer for `key`, or `render()` once (charged to `client`'s budget).

        Raises `RenderRefused` when the client's budget is spent."""
        found = self._cached(key)
        if found is not None:
            return found
        with self._lock:
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            found = self._cached(key)
            if found is not None:
                return found
            wait = self.budget.take(client)
            if wait:
                raise RenderRefused(wait)
            with self._renders:
                rendered()
                body = render()
            with self._lock:
                self._answers[key] = body
                while len(self._answers) > self.max_entries:
                    self._answers.popitem(last=False)
                self._pending.pop(key, None)
        return body
