"""Split view with real ledgers: two ledger processes that share one key folder (whoever holds
the Foundation's keys) serve two different histories under the same trust root. A witness, run
as its own process, cosigns the first history only; `ledger verify --witnesses` accepts the
first ledger's credential and refuses the second's, although both chain to the trust root."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.integrity.keyring import KeyDirectory
from ledger.log.checkpoints import verifier_keys
from tests.conftest import make_settings
from tests.e2e.conftest import ROOT, Server, free_port, server_env, start_server, stop_server
from tests.trust_support import bare_env, cli

WITNESS = "witness.partner.test/w1"


def demo_ledger(settings: Settings, policy: Path, tmp_path: Path) -> tuple[Server, list[str]]:
    env = server_env(settings)
    loaded = cli("demo", "--json", env=env, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    valid = json.loads(loaded.stdout)["certificates"]["valid"]
    return start_server(settings, LEDGER_WITNESSES=str(policy)), valid


def wait_cosigned(server: Server) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        note = httpx.get(f"{server.base}/log/checkpoint").text
        if f"— {WITNESS} " in note:
            return note
        time.sleep(0.2)
    raise AssertionError(f"{server.base}: no cosigned checkpoint within a minute")


def save(server: Server, certificate: str, folder: Path) -> None:
    folder.mkdir()
    (folder / "credential.json").write_text(
        httpx.get(f"{server.base}/credentials/{certificate}").text
    )
    (folder / "proof.json").write_text(
        httpx.get(f"{server.base}/credentials/{certificate}/bundle").text
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_history_under_the_same_keys_is_refused_by_the_witness_and_by_verify(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    first = make_settings(backend, tmp_path, request)
    # The same key folder, another database: the same genesis, so the same trust root.
    second = replace(first, data_dir=tmp_path / "var-second")
    witness_dir = tmp_path / "witness"
    env = bare_env()
    made = cli(
        "witness", "init", "--dir", str(witness_dir), "--name", WITNESS, env=env, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    root = cli("trust-root", env=server_env(first), cwd=tmp_path)
    assert root.returncode == 0, root.stderr
    (tmp_path / "trust-root.json").write_text(root.stdout)
    [log_vkey] = verifier_keys(KeyDirectory(first.keys_dir).load())
    pinned = cli("witness", "add-log", "--dir", str(witness_dir), log_vkey, env=env, cwd=tmp_path)
    assert pinned.returncode == 0, pinned.stderr
    vkey = cli("witness", "key", "--dir", str(witness_dir), env=env, cwd=tmp_path).stdout.strip()
    port = free_port()
    witness = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledger", "witness", "serve"),
            *("--dir", str(witness_dir), "--port", str(port)),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "witness.log").open("wb"),
    )
    policy = tmp_path / "witnesses.policy"
    policy.write_text(f"witness partner {vkey} http://127.0.0.1:{port}\nquorum partner\n")
    servers: list[Server] = []
    try:
        honest, honest_ids = demo_ledger(first, policy, tmp_path)
        servers.append(honest)
        assert httpx.get(f"{honest.base}/log/key").text.strip() == log_vkey
        wait_cosigned(honest)
        hidden, hidden_ids = demo_ledger(second, policy, tmp_path)
        servers.append(hidden)
        assert httpx.get(f"{hidden.base}/log/trust-root").text == root.stdout
        deadline = time.monotonic() + 30
        kept: list[dict[str, str]] = []
        while not kept and time.monotonic() < deadline:  # the second ledger submits, is refused
            time.sleep(0.5)
            evidence = cli("witness", "evidence", "--dir", str(witness_dir), env=env, cwd=tmp_path)
            kept = json.loads(evidence.stdout or "[]")
        assert kept, "the witness kept no evidence of the second history"
        assert {item["kind"] for item in kept} <= {"fork", "inconsistent", "rollback"}
        assert f"— {WITNESS} " not in httpx.get(f"{hidden.base}/log/checkpoint").text

        save(honest, honest_ids[0], tmp_path / "honest")
        save(hidden, hidden_ids[0], tmp_path / "hidden")
        args = ["--trust", str(tmp_path / "trust-root.json"), "--witnesses", str(policy)]
        verify = ("verify", "credential.json", "--bundle", "proof.json", *args)
        accepted = cli(*verify, env=env, cwd=tmp_path / "honest")
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
        assert "PASS witnesses:" in accepted.stdout
        refused = cli(*verify, env=env, cwd=tmp_path / "hidden")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "PASS trust root" in refused.stdout  # the same identity ...
        assert "FAIL witnesses:" in refused.stdout  # ... but a history no witness vouches for
    finally:
        for server in servers:
            stop_server(server)
        witness.terminate()
        witness.wait(timeout=20)
