"""Group commit on the real store: concurrent saves share a transaction, and a member that
fails does not fail the others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from uuid import UUID

import pytest

from ledger import request_keys
from ledger.clock import ManualClock
from ledger.domain.errors import Conflict
from ledger.request_keys import KeyBinding
from ledger.runtime import open_runtime
from ledger.service_ports import Receipt
from ledger.worker import BackgroundWorker
from tests.builders import REGISTRAR
from tests.conftest import Ledger, make_settings

DAY = date(2017, 5, 1)


def _in_one_group(
    ledger: Ledger, commands: list[Callable[[], Receipt]], grouped: int | None = None
) -> list[object]:
    """Run `commands` on threads while the commit lock is held, so that they queue up and the
    first to take the lock writes `grouped` (default: all) of them as one group; each one's
    receipt or error."""
    committer = ledger.store.committer
    sizes: list[int] = []
    committer.on_group = sizes.append
    results: list[object] = [None] * len(commands)

    def run(n: int) -> None:
        try:
            results[n] = commands[n]()
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(commands))]
    with committer._commit_lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(committer._queue) < len(commands) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(committer._queue) == len(commands)
    for thread in threads:
        thread.join(30)
    committer.on_group = None
    assert sizes[0] == (grouped or len(commands))  # written (or tried) as one group
    return results


def _keyed(key: str, command: Callable[[], Receipt]) -> Callable[[], Receipt]:
    def run() -> Receipt:
        with request_keys.bound(KeyBinding(key, "registrar", f"fp-{key}")):
            return command()

    return run


def _rows(ledger: Ledger, person: str) -> int:
    return len(list(ledger.store.app.recorder.select_events(UUID(person))))


def test_a_group_of_independent_saves_commits_in_one_transaction(ledger: Ledger) -> None:
    service = ledger.service
    people = [
        str(service.register_person(REGISTRAR, f"Ann {n}", f"a{n}@example.org", "O", "R", "C").id)
        for n in range(4)
    ]
    results = _in_one_group(
        ledger,
        [
            _keyed(f"k{n}", partial(service.record_course, REGISTRAR, p, DAY, "R", 10))
            for n, p in enumerate(people)
        ],
    )
    ids = [r.positions for r in results if isinstance(r, Receipt)]
    assert len(ids) == 4
    every = sorted(i for positions in ids for i in positions)
    assert every == list(range(every[0], every[0] + len(every)))  # consecutive: one insert
    for person in people:
        assert _rows(ledger, person) == 2
    # Each member is told the ids of its own records: on SQLite the group's records are
    # inserted by one statement, and its ids are handed out in the order of the records.
    recorder = ledger.store.app.recorder
    written = recorder.select_notifications(every[0], len(every))
    stream_of = {n.id: str(n.originator_id) for n in written}
    for person, result in zip(people, results, strict=True):
        assert isinstance(result, Receipt)
        assert [stream_of[i] for i in result.positions] == [person]


def test_a_failing_member_fails_alone(ledger: Ledger) -> None:
    service = ledger.service
    people = [
        str(service.register_person(REGISTRAR, f"Bo {n}", f"b{n}@example.org", "O", "R", "C").id)
        for n in range(4)
    ]
    # The key "taken" is bound already: the group's transaction fails on its key row.
    _keyed("taken", lambda: service.record_course(REGISTRAR, people[0], DAY, "R", 10))()
    results = _in_one_group(
        ledger,
        [
            _keyed("taken", lambda: service.record_course(REGISTRAR, people[1], DAY, "R", 10)),
            _keyed("fresh-2", lambda: service.record_course(REGISTRAR, people[2], DAY, "R", 10)),
            lambda: service.record_course(REGISTRAR, people[3], DAY, "R", 10),
        ],
    )
    assert isinstance(results[0], Conflict)
    assert isinstance(results[1], Receipt)
    assert isinstance(results[2], Receipt)
    assert _rows(ledger, people[0]) == 2
    assert _rows(ledger, people[1]) == 1  # its event rolled back with its key row
    assert _rows(ledger, people[2]) == 2
    assert _rows(ledger, people[3]) == 2


def test_saves_of_the_same_record_are_not_grouped_and_one_conflicts(ledger: Ledger) -> None:
    service = ledger.service
    person = str(service.register_person(REGISTRAR, "Cy", "c@example.org", "O", "R", "C").id)
    other = str(service.register_person(REGISTRAR, "Di", "d@example.org", "O", "R", "C").id)
    results = _in_one_group(
        ledger,
        [
            lambda: service.record_course(REGISTRAR, person, DAY, "R", 10),
            lambda: service.record_course(REGISTRAR, person, DAY, "R", 11),
            lambda: service.record_course(REGISTRAR, other, DAY, "R", 12),
        ],
        grouped=2,  # the second save of `person` clashes with the first: it waits its turn
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Receipt", "Receipt"]
    assert _rows(ledger, person) == 2
    assert _rows(ledger, other) == 2


def test_the_work_after_a_group_runs_once_before_any_member_is_answered(ledger: Ledger) -> None:
    service = ledger.service
    people = [
        str(service.register_person(REGISTRAR, f"Cy {n}", f"c{n}@example.org", "O", "R", "C").id)
        for n in range(4)
    ]
    seen: list[list[int]] = []
    answered = threading.Event()
    ledger.store.committer.after = lambda: seen.append(
        [_rows(ledger, p) for p in people] + [int(answered.is_set())]
    )

    def command(person: str) -> Callable[[], Receipt]:
        def run() -> Receipt:
            receipt = service.record_course(REGISTRAR, person, DAY, "R", 10)
            answered.set()
            return receipt

        return run

    try:
        results = _in_one_group(ledger, [command(p) for p in people])
    finally:
        ledger.store.committer.after = None
    assert all(isinstance(r, Receipt) for r in results)
    assert seen == [[2, 2, 2, 2, 0]]  # once, every member's events committed, nobody answered


def test_a_failure_after_a_group_still_answers_its_members(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    service = ledger.service
    people = [
        str(service.register_person(REGISTRAR, f"Di {n}", f"d{n}@example.org", "O", "R", "C").id)
        for n in range(3)
    ]

    def failing() -> None:
        raise RuntimeError("the projections could not be written")

    ledger.store.committer.after = failing
    try:
        results = _in_one_group(
            ledger, [partial(service.record_course, REGISTRAR, p, DAY, "R", 10) for p in people]
        )
    finally:
        ledger.store.committer.after = None
    assert all(isinstance(r, Receipt) for r in results)
    assert [_rows(ledger, p) for p in people] == [2, 2, 2]
    assert "work after a group commit failed" in caplog.text


def test_with_the_worker_in_its_process_a_command_on_sqlite_returns_projected(
    tmp_path: Path, request: pytest.FixtureRequest, clock: ManualClock
) -> None:
    # SQLite only: on PostgreSQL the worker runs as a process of its own, told by NOTIFY.
    runtime = open_runtime(make_settings("sqlite", tmp_path, request), clock=clock)
    worker = BackgroundWorker(runtime, poll=3600)  # never polls: idle until woken
    worker.start()
    try:
        assert worker.caught_up.wait(30)
        person = runtime.service.register_person(REGISTRAR, "Eva", "e@example.org", "O", "R", "C")
        receipt = runtime.service.record_course(REGISTRAR, str(person.id), DAY, "R", 10)
        # Nobody woke the worker: the group commit brought the projections up itself.
        assert runtime.runner.wait_for(receipt.last_position, timeout=0)
        assert runtime.runner.known_positions(receipt.positions) is not None
    finally:
        worker.stop()
        runtime.close()
