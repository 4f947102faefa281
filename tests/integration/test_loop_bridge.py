"""Commands on the event loop's thread (ledger.api.loop_bridge): their waits suspend them, the
loop goes on serving, concurrent callers share their turns, and no caller is left hanging."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from datetime import date
from functools import partial
from pathlib import Path

import pytest

from ledger import waiting
from ledger.api import loop_bridge
from ledger.clock import ManualClock
from ledger.runtime import open_runtime
from ledger.store.turns import TurnQueue
from ledger.worker import BackgroundWorker
from tests.builders import REGISTRAR
from tests.conftest import make_settings

DAY = date(2017, 5, 1)

_request = contextvars.ContextVar("request", default="none")


class _Item:
    def __init__(self, name: str) -> None:
        self.name = name
        self.done = threading.Event()


class _Batches:
    """Work done in turns: takes every queued item, takes `pause` seconds, settles them."""

    def __init__(self, pause: float = 0.0, fail: BaseException | None = None) -> None:
        self.queue: TurnQueue[_Item] = TurnQueue()
        self.pause = pause
        self.fail = fail
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()
        self.spans: list[tuple[float, float]] = []  # when each batch's work began and ended

    def work(self) -> None:
        taken = self.queue.take()
        if not taken:
            return
        self.threads.add(threading.current_thread().name)
        began = time.monotonic()
        time.sleep(self.pause)
        self.spans.append((began, time.monotonic()))
        if self.fail is not None:
            raise self.fail
        self.batches.append([item.name for item in taken])
        for item in taken:
            item.done.set()

    def run(self, name: str) -> str:
        item = _Item(name)
        self.queue.run(item, item.done, self.work)
        return f"{name} settled"


def test_a_wait_suspends_the_command_and_the_loop_goes_on_serving() -> None:
    batches = _Batches(pause=0.5)
    ticks: list[float] = []

    async def ticking() -> None:
        for _ in range(20):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main() -> str:
        ticker = asyncio.create_task(ticking())
        answer = await loop_bridge.run(lambda: batches.run("a"))
        await ticker
        return answer

    assert asyncio.run(main()) == "a settled"
    # The loop ticked while the work was being done, in another thread.
    ((began, ended),) = batches.spans
    assert len([t for t in ticks if began < t < ended]) >= 3
    assert batches.threads
    assert threading.current_thread().name not in batches.threads


def test_concurrent_commands_share_their_turns() -> None:
    batches = _Batches(pause=0.05)

    async def main() -> list[str]:
        return list(
            await asyncio.gather(
                *(loop_bridge.run(lambda n=n: batches.run(f"c{n}")) for n in range(12))
            )
        )

    assert asyncio.run(main()) == [f"c{n} settled" for n in range(12)]
    done = [name for batch in batches.batches for name in batch]
    assert sorted(done) == sorted(f"c{n}" for n in range(12))
    assert len(batches.batches) < 12  # queued while a turn was taken: written together


def test_work_that_fails_fails_every_waiting_command_and_leaves_nothing_queued() -> None:
    batches = _Batches(pause=0.05, fail=RuntimeError("the disk went away"))

    async def main() -> list[object]:
        return list(
            await asyncio.gather(
                *(loop_bridge.run(lambda n=n: batches.run(f"f{n}")) for n in range(5)),
                return_exceptions=True,
            )
        )

    results = asyncio.run(asyncio.wait_for(main(), timeout=10))
    assert all(isinstance(r, RuntimeError) and "disk went away" in str(r) for r in results)
    assert not batches.queue.pending()


def test_a_cancelled_request_sees_its_command_to_the_end_then_is_cancelled() -> None:
    batches = _Batches(pause=0.3)
    finished: list[str] = []

    def command() -> str:
        answer = batches.run("x")
        finished.append(answer)
        return answer

    async def main() -> None:
        task = asyncio.create_task(loop_bridge.run(command))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert finished == ["x settled"]  # its work was not abandoned midway
    assert batches.batches == [["x"]]


def test_the_command_runs_in_a_copy_of_the_requests_context() -> None:
    def command() -> tuple[str, bool]:
        return _request.get(), waiting.current.get() is not None

    async def main() -> tuple[str, bool]:
        _request.set("request 7")
        return await loop_bridge.run(command)

    assert asyncio.run(main()) == ("request 7", True)
    assert waiting.current.get() is None  # only inside the command


def test_offloaded_waits_run_elsewhere_when_bridged_and_here_otherwise() -> None:
    def where() -> str:
        return threading.current_thread().name

    here = threading.current_thread().name
    assert waiting.offload(where) == here

    async def main() -> str:
        return await loop_bridge.run(lambda: waiting.offload(where))

    assert asyncio.run(main()) != here


def test_a_queue_used_by_threads_and_by_bridged_commands_settles_both() -> None:
    batches = _Batches(pause=0.02)
    from_threads: list[str] = []

    def in_thread(n: int) -> None:
        from_threads.append(batches.run(f"t{n}"))

    async def main() -> list[str]:
        threads = [threading.Thread(target=in_thread, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        found = list(
            await asyncio.gather(
                *(loop_bridge.run(lambda n=n: batches.run(f"b{n}")) for n in range(4))
            )
        )
        for thread in threads:
            thread.join(10)
        return found

    assert asyncio.run(asyncio.wait_for(main(), timeout=10)) == [f"b{n} settled" for n in range(4)]
    assert sorted(from_threads) == sorted(f"t{n} settled" for n in range(4))


def test_real_commands_on_the_loop_commit_in_groups_and_return_projected(
    tmp_path: Path, request: pytest.FixtureRequest, clock: ManualClock
) -> None:
    """Courses recorded by concurrent commands on the loop of an SQLite ledger with its worker
    in the process, as `ledger serve` runs them: each committed once, in shared groups, and the
    projections have its course when it returns."""
    runtime = open_runtime(make_settings("sqlite", tmp_path, request), clock=clock)
    worker = BackgroundWorker(runtime, poll=3600)  # never polls: the group commits project
    worker.start()
    try:
        assert worker.caught_up.wait(30)
        people = [
            str(
                runtime.service.register_person(
                    REGISTRAR, f"P{n}", f"p{n}@example.org", "O", "R", "C"
                ).id
            )
            for n in range(8)
        ]
        sizes: list[int] = []
        runtime.store.committer.on_group = sizes.append

        def record(person: str) -> bool:
            receipt = runtime.service.record_course(REGISTRAR, person, DAY, "Tyrol", 9)
            return runtime.runner.wait_for(receipt.last_position, timeout=0)

        async def main() -> list[bool]:
            return list(
                await asyncio.gather(*(loop_bridge.run(partial(record, p)) for p in people))
            )

        assert asyncio.run(asyncio.wait_for(main(), timeout=30)) == [True] * len(people)
        runtime.store.committer.on_group = None
        assert sum(sizes) == len(people)
        assert max(sizes) > 1  # queued while a group was written: they shared commits
        for person in people:
            status = runtime.queries.trainer_status(person, date(2020, 1, 1))
            assert status is not None
            assert status["courses_delivered"] == 1
    finally:
        worker.stop()
        runtime.close()
