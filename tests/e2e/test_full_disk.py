"""A full disk under the SQLite ledger: its data directory on a small tmpfs, filled by a file.

Writes are answered 503 `disk-full` (never 500) and `/readyz` is not ready; once the file is
deleted, writes resume, `/readyz` is ready again and `ledger audit --live` passes.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import IN_CI, KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.outage_support import keyed_write, live_audit

DISK_MB = 40
MIN_FREE_MB = 8


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the full-disk test mounts a tmpfs and needs root under CI")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)], check=True
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def disk_server(small_disk: Path, tmp_path: Path) -> Iterator[Server]:
    init_keyring(KeyDirectory(tmp_path / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=small_disk / "var", keys_dir=tmp_path / "keys", origin=TEST_ORIGIN)
    running = start_server(settings, LEDGER_MIN_FREE_MB=str(MIN_FREE_MB))
    try:
        yield running
    finally:
        stop_server(running)


def fill(path: Path) -> None:
    """Write `path` until the filesystem refuses another byte."""
    with path.open("ab", buffering=0) as file:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    file.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise


def not_ready_within(server: Server, seconds: float) -> httpx.Response:
    """The first 503 of `/readyz` (its probes are reused for a quarter of a second)."""
    deadline = time.monotonic() + seconds
    while True:
        ready = httpx.get(f"{server.base}/readyz", timeout=10)
        if ready.status_code == 503 or time.monotonic() > deadline:
            assert ready.status_code == 503, ready.text
            return ready
        time.sleep(0.1)


def test_a_full_disk_answers_503_and_writes_resume_when_space_returns(
    disk_server: Server, small_disk: Path, tmp_path: Path
) -> None:
    server = disk_server
    token = server.token("disk-registrar", Role.REGISTRAR)
    run = uuid.uuid4().hex[:8]
    filler = small_disk / "filler"
    with server.client(token) as client:

        def write(n: int) -> httpx.Response:
            return keyed_write(client, f"disk {run} #{n}")

        assert write(0).status_code == 201
        answers = []
        for n in range(1, 200):  # SQLite may reuse space it holds before a write needs more
            fill(filler)
            answers.append(write(n))
            if answers[-1].status_code != 201:
                break
        refused = answers[-1]
        assert [a.status_code for a in answers if a.status_code not in (201, 503)] == []
        assert refused.status_code == 503, "writes never failed on a full disk"
        assert refused.headers["Retry-After"].isdigit()
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["type"].endswith("/unavailable")
        assert problem["cause"] == "disk-full"
        assert problem["detail"].startswith("the disk is full")

        fill(filler)  # what SQLite gave back when the write failed (its journal) is taken too
        ready = not_ready_within(server, seconds=2)
        assert ready.json()["checks"]["disk"]["ok"] is False
        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200

        filler.unlink()
        resumed = None
        for n in range(1000, 1100):
            resumed = write(n)
            if resumed.status_code == 201:
                break
            time.sleep(0.2)
        assert resumed is not None
        assert resumed.status_code == 201, resumed.text
        retried = write(n)
        assert retried.headers.get("Idempotent-Replayed") == "true"

    deadline = time.monotonic() + 30
    while httpx.get(f"{server.base}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "readyz not ready after space returned"
        time.sleep(0.2)

    stop_server(server)
    audit = live_audit(server.settings)
    assert audit.returncode == 0, audit.stdout + audit.stderr
