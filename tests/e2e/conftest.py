"""A real server process (`python -m ledger serve`) on both backends, spoken to over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ledger.api.auth import TokenStore
from ledger.config import Settings
from ledger.db import Database
from ledger.domain.actors import Role
from ledger.store.application import open_store

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATA_DIR=str(settings.data_dir),
        LEDGER_KEYS_DIR=str(settings.keys_dir),
        LEDGER_ORIGIN=settings.origin,
        PYTHONPATH=str(ROOT),
        **extra,
    )
    if settings.database_url:
        env["LEDGER_DATABASE_URL"] = settings.database_url
    return env


def run_ledger(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m ledger ARGS` against `settings`' database, as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base} not ready after {timeout} s")


@dataclass
class Server:
    base: str
    settings: Settings
    process: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, name: str, role: Role, person: str | None = None) -> str:
        key = f"{name}/{role}"
        if key not in self.tokens:
            db = Database(self.settings)
            try:
                self.tokens[key] = TokenStore(db).create(name, role, person)
            finally:
                db.close()
        return self.tokens[key]

    def revoke(self, name: str) -> None:
        db = Database(self.settings)
        try:
            TokenStore(db).revoke(name)
        finally:
            db.close()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


def start_server(settings: Settings, port: int | None = None, **env: str) -> Server:
    open_store(settings).close()
    port = port or free_port()
    log_path = Path(settings.data_dir).parent / f"server-{port}.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--quiet"],
            env=server_env(settings, **env),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
    except RuntimeError:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(log_path.read_text(errors="replace")[-3000:]) from None
    return Server(base, settings, process)


def stop_server(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    running = start_server(settings)
    try:
        yield running
    finally:
        stop_server(running)
