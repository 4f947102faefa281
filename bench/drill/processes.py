"""Process control: the ledger's API processes and worker, started, killed (SIGKILL) and
restarted as an operator's supervisor would; their logs go to files beside the ledger."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0


class DrillError(RuntimeError):
    """The drill itself could not go on (a process that never became ready, a tool missing)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """One `ledger serve` or `ledger worker` process; `port` is None for the worker."""

    name: str
    env: dict[str, str]
    logs: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def argv(self) -> list[str]:
        if self.port is None:
            return [sys.executable, "-m", "ledger", "worker"]
        return [sys.executable, "-m", "ledger", "serve", "--port", str(self.port), "--quiet"]

    def start(self) -> None:
        self.starts += 1
        log = self.logs / f"{self.name}-{self.starts}.log"
        with log.open("wb") as errors:  # a file, not a pipe: a full pipe would stall it
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors
            )

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        if self.port is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise DrillError(f"{self.name} exited with {self.popen.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise DrillError(f"{self.name} not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        log = self.logs / f"{self.name}-{self.starts}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return text[-1500:]


@dataclass
class Deployment:
    """The ledger's processes: SQLite, one API process with its worker thread; PostgreSQL, two
    API processes without one and a separate worker (the production shape)."""

    apis: list[Process]
    worker: Process | None = None
    processes: list[Process] = field(init=False)

    def __post_init__(self) -> None:
        self.processes = ([self.worker] if self.worker else []) + self.apis

    @property
    def bases(self) -> list[str]:
        return [api.base for api in self.apis]

    def start(self) -> None:
        for process in self.processes:  # the worker first: it sequences the key-ring genesis
            process.start()
        for api in self.apis:
            api.wait_ready()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def restart_cleanly(self) -> None:
        self.stop()
        self.start()


def deployment(env: dict[str, str], logs: Path, postgres: bool) -> Deployment:
    logs.mkdir(parents=True, exist_ok=True)
    if not postgres:
        return Deployment([Process("api", dict(env), logs, free_port())])
    apart = {**env, "LEDGER_RUN_WORKER": "0"}
    apis = [Process(f"api-{n}", dict(apart), logs, free_port()) for n in (1, 2)]
    return Deployment(apis, Process("worker", dict(env), logs))


def environment(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(base, PYTHONPATH=str(ROOT), LEDGER_LOG_LEVEL="WARNING")
    return env
