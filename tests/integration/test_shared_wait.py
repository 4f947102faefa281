"""Requests waiting to read their own writes share one reader of the projections' positions."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from ledger.runtime import Runtime
from ledger.views.runner import WAIT_POLL_S
from tests.builders import REGISTRAR


def test_many_waiters_share_one_reader(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = runtime.runner
    reads = 0
    read = runner._read_positions

    def counted() -> None:
        nonlocal reads
        reads += 1
        read()

    monkeypatch.setattr(runner, "_read_positions", counted)
    waited = 0.5
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(runner.wait_for(10**9, timeout=waited)))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [False] * 16  # nothing reaches a position never written
    # One reader for all, about every WAIT_POLL_S; each polling alone would be 16 times that.
    assert 1 <= reads <= waited / WAIT_POLL_S + 4


def test_a_waiter_is_answered_once_the_projections_apply_its_write(runtime: Runtime) -> None:
    person = runtime.service.register_person(REGISTRAR, "Eve", "e@example.org", "O", "R", "C")
    receipt = runtime.service.record_course(REGISTRAR, str(person.id), date(2017, 5, 1), "R", 9)
    assert runtime.runner.wait_for(receipt.last_position, timeout=0.2) is False
    answered: list[bool] = []
    waiter = threading.Thread(
        target=lambda: answered.append(runtime.runner.wait_for(receipt.last_position, 10))
    )
    waiter.start()
    runtime.sequencer.sequence_once()
    runtime.runner.catch_up()
    waiter.join(10)
    assert answered == [True]
