"""`ledger monitor` follows a ledger through a checkpoint key rotation, tracing the new key to
the trust root through the key-history records the ledger serves (never through /log/keyring)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ledger.domain.actors import Role
from tests.e2e.conftest import ROOT, Server, server_env


def _register(server: Server, token: str, n: int) -> None:
    answer = server.client(token).post(
        "/v1/people",
        json={
            "name": f"Monitored {n}",
            "email": f"m{n}@example.org",
            "organisation": "O",
            "region": "R",
            "country": "C",
        },
    )
    assert answer.status_code == 201, answer.text


def _checkpoint_size(server: Server, at_least: int) -> int:
    for _ in range(100):
        answer = httpx.get(f"{server.base}/log/checkpoint")
        if answer.status_code == 200 and int(answer.text.splitlines()[1]) >= at_least:
            return int(answer.text.splitlines()[1])
        time.sleep(0.1)
    raise AssertionError(f"no checkpoint of size {at_least}")


def _monitor(server: Server, trust: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "ledger", "monitor", server.base),
            *("--trust", str(trust), "--state", str(state), "--once"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_monitor_traces_a_rotated_checkpoint_key_to_the_trust_root(
    server: Server, tmp_path: Path
) -> None:
    token = server.token("registrar-mon", Role.REGISTRAR)
    _register(server, token, 0)
    _checkpoint_size(server, 2)
    trust = tmp_path / "trust-root.json"
    trust.write_text(server.settings.keys_dir.joinpath("trust-root.json").read_text())
    state = tmp_path / "seen.json"
    first = _monitor(server, trust, state)
    assert first.returncode == 0, first.stdout + first.stderr

    rotated = subprocess.run(
        [sys.executable, "-m", "ledger", "keys", "rotate", "--purpose", "checkpoints"],
        env=server_env(server.settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    time.sleep(1.5)  # the server notices the changed key ring within a second
    _register(server, token, 1)
    size = _checkpoint_size(server, 5)  # genesis, person, rotation (2 records), person
    history = httpx.get(f"{server.base}/log/key-history").json()
    assert [r["position"] for r in history["records"]] == [0, 2, 3]
    keyring = httpx.get(f"{server.base}/log/keyring").json()
    pinned = {k["kid"] for k in json.loads(trust.read_text())["keys"]}
    fresh = [k for k in keyring["keys"] if k["kid"] not in pinned]
    assert [k["purpose"] for k in fresh] == ["checkpoints"]  # the checkpoint key is a new one

    second = _monitor(server, trust, state)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"size {size}" in second.stdout

    # A trust root of another ledger never learns the rotated key from this one.
    other = json.loads(trust.read_text())
    other["genesis"] = "0" * 64
    forged = tmp_path / "other-root.json"
    forged.write_text(json.dumps(other))
    refused = _monitor(server, forged, tmp_path / "other-seen.json")
    assert refused.returncode != 0
    assert "trust root" in (refused.stdout + refused.stderr)
