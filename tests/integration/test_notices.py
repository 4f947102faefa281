"""PostgreSQL notifications between processes (ledger.notices), with two runtimes on one
ledger standing for an API process and `ledger worker`: a request waiting to read its own
writes is released by the worker's batch, and the worker starts its batch when another process
commits events, each well before any poll would have (the polls are set to a minute here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.api.app import _projections_listener
from ledger.runtime import Runtime, open_runtime
from ledger.views import runner as runner_module
from ledger.views.sql import trackings
from ledger.worker import BackgroundWorker
from tests.builders import REGISTRAR
from tests.conftest import make_settings

pytestmark = pytest.mark.postgres
MINUTE = 60.0


@pytest.fixture
def two(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Runtime, Runtime]]:
    settings = make_settings("postgres", tmp_path, request)  # SQLite has one writing process
    api, worker = open_runtime(settings), open_runtime(settings)
    try:
        worker.catch_up()
        yield api, worker
    finally:
        worker.close()
        api.close()


def _register(runtime: Runtime, n: int) -> int:
    receipt = runtime.service.register_person(
        REGISTRAR, f"Alex Example {n}", f"alex{n}@example.org", "O", "R", "C"
    )
    assert receipt.last_position is not None
    return receipt.last_position


def _waiting(
    api: Runtime, notification_id: int, timeout: float
) -> tuple[threading.Thread, list[bool]]:
    answers: list[bool] = []
    thread = threading.Thread(
        target=lambda: answers.append(api.runner.wait_for(notification_id, timeout=timeout))
    )
    thread.start()
    time.sleep(0.3)  # it has read the positions once and waits for the next poll
    return thread, answers


def test_a_request_in_another_process_hears_the_batch_with_its_events(
    two: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, worker = two
    monkeypatch.setattr(runner_module, "WAIT_POLL_S", MINUTE)
    listener = _projections_listener(api)
    assert listener is not None
    try:
        assert listener.listening.wait(10)
        written = _register(api, 1)
        thread, answers = _waiting(api, written, timeout=20)
        assert answers == []  # not in the read models yet
        worker.catch_up()
        thread.join(30)
        assert answers == [True]
    finally:
        listener.stop()


def test_without_the_notification_the_request_waits_for_its_poll(
    two: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, worker = two
    monkeypatch.setattr(runner_module, "WAIT_POLL_S", MINUTE)
    written = _register(api, 2)
    thread, answers = _waiting(api, written, timeout=2)
    worker.catch_up()
    thread.join(30)
    assert answers == [False]  # not heard: released only by its timeout


def _projected(runtime: Runtime) -> int:
    with runtime.db.statement() as tx:
        return min(t.notification_id for t in trackings(tx, runtime.db) if t.active)


@pytest.mark.parametrize("listen", [True, False])
def test_a_worker_of_its_own_starts_its_batch_when_events_are_committed_elsewhere(
    two: tuple[Runtime, Runtime], listen: bool
) -> None:
    api, runtime = two
    worker = BackgroundWorker(runtime, poll=MINUTE, listen=listen)
    worker.start()
    try:
        assert worker.caught_up.wait(30)
        time.sleep(0.5)  # listening, and idle until told or a minute has passed
        written = _register(api, 3)
        deadline = time.monotonic() + (10 if listen else 2)
        while _projected(api) < written and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (_projected(api) >= written) is listen
    finally:
        worker.stop()
