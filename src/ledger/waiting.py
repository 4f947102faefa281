"""Waits that code on an event loop's thread must not sit out there.

Commands are plain synchronous code. On SQLite the API runs them on its event loop's thread
(ledger.api.loop_bridge), which must never block: where such code would wait — for its turn
to write, for the projections to reach its events — it asks the `Waits` of its context instead,
and is suspended until the wait is over while the loop serves other requests. Outside such a
context (threads, the CLI, the worker, PostgreSQL) nothing is set and the code waits as always.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Turns(Protocol):
    """What a queue of turns (ledger.store.turns.TurnQueue) offers to a suspended caller."""

    lock: threading.Lock | threading.RLock

    def enqueue(self, item: Any) -> None: ...

    def withdraw(self, items: list[Any]) -> None: ...

    def pending(self) -> bool: ...


class Flag(Protocol):
    """Set once an item's work is done (ledger.store.turns.Done)."""

    def is_set(self) -> bool: ...


class Waits(Protocol):
    def turn(self, queue: Turns, item: Any, done: Flag, work: Callable[[], None]) -> bool:
        """Queue `item` and return once `done` is set, `work` having been done in turns;
        False, doing nothing, when the caller is not one these waits suspend."""

    def offload(self, wait: Callable[[], T]) -> T:
        """`wait()`'s result, the wait sat out elsewhere when the caller is one these waits
        suspend."""


current: ContextVar[Waits | None] = ContextVar("ledger_waits", default=None)


def offload(wait: Callable[[], T]) -> T:
    """`wait()`'s result: sat out by the context's waits if any, else here."""
    waits = current.get()
    return wait() if waits is None else waits.offload(wait)
