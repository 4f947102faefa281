"""The real server process for the HTTP figures, and the load generators that drive it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ledger.config import Settings
from ledger.db import Database
from ledger.domain.actors import Role

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 64
WRK_TIMEOUT_S = 30  # as bench/load.py's client: wrk's own default (2 s) fails slow answers


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATA_DIR=str(settings.data_dir),
        LEDGER_KEYS_DIR=str(settings.keys_dir),
        LEDGER_ORIGIN=settings.origin,
        LEDGER_LOG_LEVEL="WARNING",
        # The load generator is one address standing in for many clients.
        LEDGER_MAX_CONNECTIONS_PER_CLIENT="1000",
        PYTHONPATH=str(ROOT),
    )
    if settings.database_url:
        env["LEDGER_DATABASE_URL"] = settings.database_url
    return env


def token(settings: Settings, name: str, role: Role, person: str | None = None) -> str:
    from ledger.api.auth import TokenStore

    db = Database(settings)
    try:
        return TokenStore(db).create(name, role, person)
    finally:
        db.close()


@dataclass
class Server:
    base: str
    pid: int

    def peak_rss_mb(self) -> float:
        """The server's peak RSS since it started (start-up included), in MB."""
        return self._status_mb("VmHWM")

    def rss_mb(self) -> float:
        """The server's RSS now, in MB."""
        return self._status_mb("VmRSS")

    def _status_mb(self, field: str) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            kb = next(int(line.split()[1]) for line in status if line.startswith(f"{field}:"))
        return kb / 1024


@contextmanager
def serve_deployed(settings: Settings) -> Iterator[Server]:
    """PostgreSQL as deployed (deploy/): an API process without a worker
    (`LEDGER_RUN_WORKER=0`) and the background work in `ledger worker`, a process of its own."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ledger", "worker"],
            env=settings_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        with serve(settings, LEDGER_RUN_WORKER="0") as server:
            yield server
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@contextmanager
def serve(settings: Settings, **env: str) -> Iterator[Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    errors = settings.data_dir / f"server-{port}.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with errors.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--quiet"],
            env={**settings_env(settings), **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                tail = errors.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the server did not become ready in 60 s")
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get_load(urls: list[str], seconds: float) -> dict[str, float]:
    """GET at 64 keep-alive connections from another process: Debian's wrk when installed
    (one URL), otherwise the async client in bench/load.py (every URL in turn)."""
    if shutil.which("wrk"):
        return wrk(urls, seconds)
    return run_load(
        {
            "urls": urls,
            "connections": CONNECTIONS,
            "seconds": seconds,
            "headers": {"Accept": "application/json"},
        }
    )


def run_load(spec: dict[str, object]) -> dict[str, float]:
    """bench/load.py in its own process; refuses a run in which any request failed."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = dict(json.loads(out))
    if found["errors"]:
        raise RuntimeError(f"{found['errors']:.0f} of {found['requests']:.0f} requests failed")
    return found


def wrk(
    urls: list[str],
    seconds: float,
    *,
    connections: int = CONNECTIONS,
    post: dict[str, object] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """Debian's wrk: 2 threads, keep-alive connections, latency percentiles; a Lua script
    sends the paths in turn. With `post` (a JSON body) every request is a POST with its own
    Idempotency-Key, as bench/load.py sends them, and each connection is a thread of its own
    that keeps to its own path (as one client writing to its own record)."""
    paths = ", ".join(json.dumps(urlsplit(u).path) for u in urls)
    script = f"local paths = {{{paths}}}\nlocal n = 0\n"
    if post is None:
        script += (
            "request = function()\n  n = n + 1\n"
            '  return wrk.format("GET", paths[(n % #paths) + 1])\nend\n'
        )
    else:
        run = uuid.uuid4().hex
        script += (
            "local threads = 0\n"
            'function setup(thread)\n  threads = threads + 1\n  thread:set("tid", threads)\nend\n'
            f"wrk.body = {json.dumps(json.dumps(post))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            "request = function()\n  n = n + 1\n"
            f'  wrk.headers["Idempotency-Key"] = "{run}-" .. tid .. "-" .. n\n'
            '  return wrk.format("POST", paths[((tid - 1) % #paths) + 1])\nend\n'
        )
    sent = {"Accept": "application/json", **(headers or {})}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            [
                "wrk",
                f"-t{2 if post is None else connections}",  # a POST client: its own thread
                f"-c{connections}",
                f"-d{max(int(seconds), 1)}s",
                "--latency",
                "--timeout",
                f"{WRK_TIMEOUT_S}s",  # a slow answer counts in the latencies, not as a failure
                "-s",
                lua.name,
                *[arg for name, value in sent.items() for arg in ("-H", f"{name}: {value}")],
                urls[0],
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def ms(text: str) -> float:
        for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * scale
        return float(text)

    found: dict[str, float] = {"errors": 0.0}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50%"):
            found["p50_ms"] = ms(parts[1])
        elif line.strip().startswith("99%"):
            found["p99_ms"] = ms(parts[1])
        elif line.startswith("Requests/sec:"):
            found["requests_per_second"] = float(parts[1])
        elif "Non-2xx" in line or "Socket errors" in line:
            raise RuntimeError(f"wrk: {line.strip()}")
    if not found.get("requests_per_second"):
        raise RuntimeError(f"wrk: no request answered in {max(int(seconds), 1)} s")
    return found
