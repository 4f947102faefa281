"""What a newcomer does: clone, `make run`, wait for /readyz, check /verify in every status, stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import ROOT, free_port


def test_a_fresh_clone_runs_with_demo_data_in_one_command(tmp_path: Path) -> None:
    clone = tmp_path / "ledger"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "VIRTUAL_ENV"))}
    log = (tmp_path / "run.log").open("wb")
    service = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            assert service.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise AssertionError("not ready: " + (tmp_path / "run.log").read_text()[-3000:])
        printed = (tmp_path / "run.log").read_text()
        assert f"{base}/docs" in printed
        assert "ledger export" in printed
        demo = subprocess.run(
            [str(clone / ".venv" / "bin" / "ledger"), "demo", "--json"],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        certificates = json.loads(demo.stdout)["certificates"]
        for status in ("valid", "expired", "suspended", "revoked"):
            assert certificates[status], status
            answer = httpx.get(
                f"{base}/verify/{certificates[status][0]}",
                headers={"Accept": "application/json"},
                timeout=10,
            ).json()
            assert answer["status"] == status
            assert f"{base}/verify/" in printed
        assert httpx.get(f"{base}/docs", timeout=10).status_code == 200
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=60)
        log.close()
    with httpx.Client(timeout=2) as client:
        try:
            client.get(f"{base}/healthz")
            stopped = False
        except httpx.HTTPError:
            stopped = True
    assert stopped
    assert "Shutting down" in (tmp_path / "run.log").read_text() or service.returncode in (
        0,
        -15,
        2,
    )
