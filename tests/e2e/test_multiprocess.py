"""PostgreSQL production shape: two `ledger serve` processes and one `ledger worker`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ledger.domain.actors import Role
from ledger.runtime import open_runtime
from projections import ALL
from projections.base import replay_all
from tests.conftest import make_settings
from tests.e2e.conftest import ROOT, server_env, start_server, stop_server
from tests.e2e.outage_support import live_audit

WRITES = 1000


@pytest.mark.postgres
def test_two_api_processes_and_a_worker_take_1000_writes_and_audit_clean(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings("postgres", tmp_path, request)
    # The worker first: an API process without one is not ready until the key-ring genesis
    # that a new ledger writes is in the log, and only a worker sequences it.
    worker = subprocess.Popen(
        [sys.executable, "-m", "ledger", "worker"],
        env=server_env(settings),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("wb"),
    )
    servers = [start_server(settings, LEDGER_RUN_WORKER="0") for _ in range(2)]
    try:
        token = servers[0].token("writer", Role.REGISTRAR)

        def write(n: int) -> tuple[int, bool]:
            server = servers[n % 2]
            response = httpx.post(
                f"{server.base}/v1/people",
                json={
                    "name": f"Person {n}",
                    "email": f"p{n}@example.org",
                    "organisation": "O",
                    "region": "Region",
                    "country": "Country",
                },
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                timeout=60,
            )
            return response.status_code, response.json().get("projected") is True

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(write, range(WRITES)))
        # Each answer waited until its events were in the read models, which the worker, in
        # a process of its own, tells the API processes batch by batch (ledger.notices).
        assert answers == [(201, True)] * WRITES
    finally:
        for server in servers:
            stop_server(server)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0

    audit = live_audit(settings)
    assert audit.returncode == 0, audit.stdout[-2000:]
    assert json.loads(audit.stdout)["records"] == WRITES + 1  # and the key-ring genesis
    runtime = open_runtime(settings)
    try:
        runtime.runner.catch_up()
        rebuilt = replay_all(ALL, (row.data for row in runtime.log_storage.all_events()))
        assert runtime.runner.digests() == rebuilt
    finally:
        runtime.close()
