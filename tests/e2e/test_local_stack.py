"""deploy/local-stack.sh driven as an operator would: PostgreSQL, two API processes and a worker
on one machine; writes over both processes, the worker killed and started again halfway, then
the audit and every projection digest against a fresh replay."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.runtime import open_runtime
from projections import ALL
from projections.base import replay_all
from tests.conftest import IN_CI, new_pg_schema, pg_url
from tests.e2e.conftest import ROOT, free_port

STACK = ROOT / "deploy" / "local-stack.sh"
LEDGER = Path(sys.executable).with_name("ledger")
WRITES = 1000
HALF = WRITES // 2
GENESIS = 1  # the key-ring genesis, log position 0, written when the ledger first opens
# Written while no worker runs: each answers only after waiting (3 s) for the read models.
WHILE_DOWN = 16
ORIGIN = "stack.test/log"


def alive(pid: int) -> bool:
    """The process exists and has not exited (the stack's processes are not our children)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def two_ports() -> list[int]:
    ports: list[int] = []
    while len(ports) < 2:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class Stack:
    folder: Path
    ports: list[int]
    env: dict[str, str]

    def run(self, command: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(STACK), command],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ledger(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LEDGER), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pids(self) -> dict[str, int]:
        return {p.stem: int(p.read_text()) for p in (self.folder / "run").glob("*.pid")}

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def log_size(self) -> int:
        response = httpx.get(f"{self.bases[0]}/log/checkpoint", timeout=10)
        if response.status_code == 404:
            return 0
        response.raise_for_status()
        return int(response.text.splitlines()[1])

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted((self.folder / "log").glob("*.log"))
        )


def stack_env(folder: Path, ports: list[int], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_STACK_DIR=str(folder),
        LEDGER_STACK_PORTS=" ".join(map(str, ports)),
        LEDGER_BIN=str(LEDGER),
        LEDGER_KEYS_DIR=str(folder / "keys"),
        LEDGER_DATA_DIR=str(folder / "data"),
        LEDGER_ORIGIN=ORIGIN,
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def lost_a_port(started: subprocess.CompletedProcess[str]) -> bool:
    """Whether `start` failed because another program (another test's server, on a machine
    running tests side by side) took one of the ports between choosing it and binding it."""
    said = started.stderr.lower()
    return started.returncode != 0 and (
        "is taken by another program" in said or "address already in use" in said
    )


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    started = stack.run("start")
    for _ in range(2):
        if not lost_a_port(started):
            break
        stack.run("stop")
        stack.ports[:] = two_ports()
        stack.env["LEDGER_STACK_PORTS"] = " ".join(map(str, stack.ports))
        started = stack.run("start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr + stack.logs()
        yield stack
    finally:
        stopped = stack.run("stop")
        assert stopped.returncode == 0, stopped.stderr


def create_token(stack: Stack) -> str:
    made = stack.ledger("token", "create", "--role", "registrar", "--name", "writer")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[0]


def write_people(stack: Stack, token: str, numbers: range) -> list[tuple[int, bool]]:
    """Registers one person per number, alternating between the API processes; each answer's
    status code and whether the command was already in the read models when it answered."""

    def write(n: int) -> tuple[int, bool]:
        response = httpx.post(
            f"{stack.bases[n % 2]}/v1/people",
            json={
                "name": f"Trainer {n}",
                "email": f"trainer{n}@example.org",
                "organisation": "Cluster Organisation",
                "region": "Region",
                "country": "Country",
            },
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=60,
        )
        return response.status_code, bool(response.json().get("projected"))

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(write, numbers))


def statuses(answers: list[tuple[int, bool]]) -> list[int]:
    return [code for code, _ in answers]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.2)


@pytest.mark.postgres
def test_local_stack_takes_1000_writes_survives_a_killed_worker_and_audits_clean(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = request.getfixturevalue("pg_database")
    url = pg_url(database, new_pg_schema(database))
    folder = tmp_path / "stack"
    ports = two_ports()
    stack = Stack(folder, ports, stack_env(folder, ports, LEDGER_DATABASE_URL=url))

    with running(stack):
        first = stack.pids()
        assert set(first) == {f"api-{p}" for p in stack.ports} | {"worker"}
        assert all(alive(pid) for pid in first.values())
        assert (folder / "keys" / "keyring.json").is_file()  # made on first start
        token = create_token(stack)

        # First half over both API processes, with the worker running.
        first_half = write_people(stack, token, range(0, HALF))
        assert statuses(first_half) == [201] * HALF
        wait_until(lambda: stack.log_size() == GENESIS + HALF, 60, f"log size {GENESIS + HALF}")

        # The worker dies without warning. The API processes still take writes (stored and
        # signed, answered as not yet projected) but, running no background work themselves,
        # sequence none of them into the log.
        os.kill(first["worker"], signal.SIGKILL)
        wait_until(lambda: not alive(first["worker"]), 10, "the worker's death")
        while_down = write_people(stack, token, range(HALF, HALF + WHILE_DOWN))
        assert while_down == [(201, False)] * WHILE_DOWN
        time.sleep(1.5)  # three checkpoint intervals: an API process would have sequenced
        assert stack.log_size() == GENESIS + HALF

        # `start` again starts only what is missing: the worker.
        restarted = stack.run("start")
        assert restarted.returncode == 0, restarted.stderr + stack.logs()
        assert "started worker" in restarted.stdout
        assert "started API" not in restarted.stdout
        second = stack.pids()
        assert second["worker"] != first["worker"]
        assert alive(second["worker"])
        assert {k: v for k, v in second.items() if k != "worker"} == {
            k: v for k, v in first.items() if k != "worker"
        }

        rest = write_people(stack, token, range(HALF + WHILE_DOWN, WRITES))
        assert statuses(rest) == [201] * (WRITES - HALF - WHILE_DOWN)
        wait_until(lambda: stack.log_size() == GENESIS + WRITES, 60, f"log size {WRITES}")

        def projections_caught_up() -> bool:
            status = stack.ledger("projections", "status", "--json")
            assert status.returncode == 0, status.stderr
            return all(p["lag"] == 0 for p in json.loads(status.stdout))

        wait_until(projections_caught_up, 60, "projections caught up")
        worker_log = (folder / "log" / "worker.log").read_text()
        assert worker_log.count('"worker active"') == 2  # the first worker, then the second

    # Stopped cleanly: no process left, no port open.
    assert not any(alive(pid) for pid in {**first, **second}.values())
    assert not any(port_open(port) for port in stack.ports)

    # Everything was done by the worker: the statuses are read without catching up.
    status = stack.ledger("projections", "status", "--json")
    assert status.returncode == 0, status.stderr
    live = {p["name"]: p for p in json.loads(status.stdout)}
    assert {p["position"] for p in live.values()} == {GENESIS + WRITES}

    audit = stack.ledger("audit", "--live", "--json")
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]
    assert json.loads(audit.stdout)["records"] == GENESIS + WRITES
    assert json.loads(audit.stdout)["pinned"] is True  # by the ledger's own trust root

    settings = Settings(
        data_dir=folder / "data", keys_dir=folder / "keys", database_url=url, origin=ORIGIN
    )
    runtime = open_runtime(settings)
    try:
        rebuilt = replay_all(ALL, (row.data for row in runtime.log_storage.all_events()))
    finally:
        runtime.close()
    assert {name: p["digest"] for name, p in live.items()} == rebuilt

    # The nightly backup: an auditor bundle of the same history, audited before it is kept.
    backup = subprocess.run(
        [str(ROOT / "deploy" / "backup-bundle.sh"), str(tmp_path / "bundles")],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert backup.returncode == 0, backup.stderr[-2000:]
    (bundle,) = [p for p in (tmp_path / "bundles").iterdir() if p.is_dir()]
    trust = folder / "keys" / "trust-root.json"
    bundle_audit = stack.ledger("audit", str(bundle), "--json", "--trust", str(trust))
    assert bundle_audit.returncode == 0, bundle_audit.stdout[-2000:]
    assert json.loads(bundle_audit.stdout)["records"] == GENESIS + WRITES


def _server_programs() -> bool:
    found = subprocess.run(["sh", "-c", "command -v initdb"], capture_output=True).returncode == 0
    return found or any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def test_local_stack_without_a_database_makes_a_throwaway_cluster(tmp_path: Path) -> None:
    if not _server_programs():
        if IN_CI:
            pytest.fail("PostgreSQL's server programs (initdb) are required under CI")
        pytest.skip("no PostgreSQL server programs (initdb) here")
    folder = tmp_path / "stack"
    ports = two_ports()
    pg_port = free_port()
    stack = Stack(folder, ports, stack_env(folder, ports, LEDGER_STACK_PG_PORT=str(pg_port)))
    try:
        with running(stack):
            assert port_open(pg_port)
            url = f"postgresql://postgres@127.0.0.1:{pg_port}/ledger"
            stack.env["LEDGER_DATABASE_URL"] = url
            token = create_token(stack)
            assert statuses(write_people(stack, token, range(1, 2))) == [201]
            status = stack.run("status")
            assert status.returncode == 0
            assert "postgresql: running" in status.stdout
        assert not port_open(pg_port)
        assert stack.run("status").returncode == 3
    finally:
        cleaned = stack.run("clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "deleted the throwaway cluster" in cleaned.stdout
    assert not (folder / "run" / "pg.dir").exists()


def test_a_port_another_program_answers_on_is_refused_by_name(tmp_path: Path) -> None:
    """Nothing of the stack starts when one of its ports is taken: requests there would reach
    another program (another ledger, with other tokens) while the stack said it was ready."""
    folder = tmp_path / "stack"
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        ports = [free_port(), taken]
        env = stack_env(
            folder, ports, LEDGER_DATABASE_URL="postgresql://postgres@127.0.0.1:1/unused"
        )
        stack = Stack(folder, ports, env)
        started = stack.run("start")
        try:
            assert started.returncode == 1
            assert f"port {taken} on 127.0.0.1 is taken by another program" in started.stderr
            assert not (folder / "run" / f"api-{taken}.pid").exists()
        finally:
            stopped = stack.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stack.pids() == {}
