"""Work of concurrent callers done a batch at a time, and the one turn to write to an SQLite file.

`TurnQueue`: each caller queues its item, then takes the lock in turn; whoever holds it does the
work of what is queued (all of it, or the part it takes), so concurrent callers share one pass
and a caller alone goes at once. Group commit (ledger.store.group_commit) and the stored answers
(ledger.api.answer_writer) both work this way.

`sqlite_turn`: SQLite has one writer at a time, and a writer that finds the file locked sleeps
and tries again, backing off up to 100 ms at a time. The writers of one process (group commits,
stored answers, the background worker) take this lock first instead, so within the process they
wait in turn and each starts the moment the one before is done.

A caller on an event loop's thread (ledger.waiting) does not take the lock itself: its waits
queue its item and are suspended while a thread does the work in turns (ledger.api.loop_bridge).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ledger import waiting

T = TypeVar("T")

_turns: dict[str, threading.RLock] = {}
_turns_lock = threading.Lock()


def sqlite_turn(path: str | os.PathLike[str]) -> threading.RLock:
    """The process-wide turn to write to the SQLite file at `path`."""
    key = os.path.realpath(path)
    with _turns_lock:
        found = _turns.get(key)
        if found is None:
            found = _turns[key] = threading.RLock()
        return found


class Done:
    """Whether a queued item's work is done: set once by whoever did it, read by its caller
    (who never sleeps on it, but takes the lock in turn), so a flag, not an event: a command
    makes one for every item it queues."""

    __slots__ = ("_done",)

    def __init__(self) -> None:
        self._done = False

    def set(self) -> None:
        self._done = True

    def is_set(self) -> bool:
        return self._done


class TurnQueue(Generic[T]):
    def __init__(self, lock: threading.Lock | threading.RLock | None = None) -> None:
        self.items: list[T] = []
        self.lock = lock if lock is not None else threading.Lock()
        self._queue_lock = threading.Lock()

    def run(self, item: T, done: Done, work: Callable[[], None]) -> None:
        """Queue `item`, then take turns at the lock doing `work` (which takes queued items and
        settles them) until `done` is set: by this caller's turn or by another's."""
        waits = waiting.current.get()
        if waits is not None and waits.turn(self, item, done, work):
            return
        self.enqueue(item)
        while not done.is_set():
            with self.lock:
                if done.is_set():
                    break
                work()

    def enqueue(self, item: T) -> None:
        with self._queue_lock:
            self.items.append(item)

    def withdraw(self, items: list[Any]) -> None:
        """Take `items` out of the queue, if still there (their callers gave up on them)."""
        gone = {id(item) for item in items}
        with self._queue_lock:
            self.items = [item for item in self.items if id(item) not in gone]

    def pending(self) -> bool:
        with self._queue_lock:
            return bool(self.items)

    def take(self, choose: Callable[[list[T]], list[T]] = list) -> list[T]:
        """Take the queued items `choose` picks from the queue (in order); the rest stay."""
        with self._queue_lock:
            taken = choose(self.items)
            chosen = {id(item) for item in taken}
            self.items = [item for item in self.items if id(item) not in chosen]
        return taken
