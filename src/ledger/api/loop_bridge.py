"""Commands run on the event loop's thread, their waits suspended instead of blocking (SQLite).

A command's own work on SQLite is a fraction of a millisecond of interpreted code and a few
local reads; run in a worker thread, it cost as much again in handing the request over and back
and in sixteen threads taking the interpreter lock from each other at every read. So on SQLite
the short path of a command (ledger.api.lean_commands) runs the route's synchronous function
on the loop's thread, in a greenlet of its own. Where the function would wait (ledger.waiting):

- for its turn to write (ledger.store.turns: the group commit, the stored answers), its item is
  queued and the greenlet suspended; one thread per queue does the work in turns for every
  queued item, as the callers themselves would, and wakes the loop once per turn for all whose
  items it settled;
- for anything else offered to it (the projections reaching its events, when they have not
  already), the wait is sat out in a worker thread.

Meanwhile the loop serves other requests, which join the same turns: concurrent commands still
share their commits. The function runs in a copy of the request's context, as in a thread. A
cancelled request is not abandoned midway: as with a worker thread, its command runs to the end
and the cancellation is raised after. PostgreSQL keeps the worker threads: its reads are round
trips, which the loop must not sit out.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import greenlet

from ledger import waiting

T = TypeVar("T")
log = logging.getLogger("ledger.api")


class _Command(greenlet.greenlet):
    """The greenlet a command runs in."""


@dataclass
class _Awaiting:
    """What a suspended command waits for."""

    future: asyncio.Future[Any]


@dataclass
class _Waiter:
    item: Any
    done: waiting.Flag
    future: asyncio.Future[None]


class LoopWaits:
    """The waits of commands on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._waiters: dict[int, list[_Waiter]] = {}  # by queue; present while it is drained

    def _here(self) -> bool:
        if not isinstance(greenlet.getcurrent(), _Command):
            return False
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def turn(
        self, queue: waiting.Turns, item: Any, done: waiting.Flag, work: Callable[[], None]
    ) -> bool:
        if not self._here():
            return False
        waiter = _Waiter(item, done, self.loop.create_future())
        with self._lock:
            queue.enqueue(item)
            waiters = self._waiters.get(id(queue))
            start = waiters is None
            if waiters is None:
                waiters = self._waiters[id(queue)] = []
            waiters.append(waiter)
        if start:
            self.loop.run_in_executor(None, self._drain, queue, work)
        _suspend(waiter.future)
        return True

    def offload(self, wait: Callable[[], T]) -> T:
        if not self._here():
            return wait()
        result: T = _suspend(self.loop.run_in_executor(None, wait))
        return result

    def _drain(self, queue: waiting.Turns, work: Callable[[], None]) -> None:
        """In a worker thread: do `work` in turns until every suspended caller of `queue` is
        settled and nothing is queued; wake the loop once per turn for those settled."""
        key = id(queue)
        try:
            while True:
                with queue.lock:
                    work()
                with self._lock:
                    waiters = self._waiters[key]
                    settled = [w for w in waiters if w.done.is_set()]
                    left = [w for w in waiters if not w.done.is_set()]
                    pending = queue.pending()
                    if not left and not pending:
                        del self._waiters[key]
                    else:
                        self._waiters[key] = left
                if settled:
                    self.loop.call_soon_threadsafe(_settle, settled, None)
                if not left and not pending:
                    return
                if not settled and not pending:  # nothing moved: never spin on it
                    raise RuntimeError("queued work left callers waiting with nothing queued")
        except BaseException as exc:  # every caller still waiting gets the error, none hangs
            with self._lock:
                waiters = self._waiters.pop(key, [])
            queue.withdraw([w.item for w in waiters])
            log.error("work done in turns failed", exc_info=True)
            self.loop.call_soon_threadsafe(_settle, waiters, exc)


def _settle(waiters: list[_Waiter], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.future.done():
            continue
        if error is None:
            waiter.future.set_result(None)
        else:
            waiter.future.set_exception(error)


def _suspend(future: asyncio.Future[Any]) -> Any:
    """Suspend the current command until `future` is done: its result, or its error raised."""
    command = greenlet.getcurrent()
    assert isinstance(command, _Command)
    assert command.parent is not None
    return command.parent.switch(_Awaiting(future))


_waits: WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaits] = WeakKeyDictionary()


async def run(function: Callable[[], T]) -> T:
    """`function()` run on this loop's thread, suspended wherever it would wait."""
    loop = asyncio.get_running_loop()
    waits = _waits.get(loop)
    if waits is None:
        waits = _waits[loop] = LoopWaits(loop)
    context = contextvars.copy_context()
    context.run(waiting.current.set, waits)
    command = _Command(function)
    command.gr_context = context
    value = command.switch()
    cancelled = False
    while isinstance(value, _Awaiting):
        future = value.future
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():  # the request was cancelled: see the command to its end
                cancelled = True
                continue
            cancelled = cancelled or not future.cancelled()
        except BaseException:
            if not future.done():
                raise
        if future.cancelled():
            value = command.throw(asyncio.CancelledError())
        elif (error := future.exception()) is not None:
            value = command.throw(error)
        else:
            value = command.switch(future.result())
    if cancelled:
        raise asyncio.CancelledError
    return value  # type: ignore[no-any-return]
