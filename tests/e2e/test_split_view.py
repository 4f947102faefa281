"""Split-view drill: a hostile log serves two histories of the same size to two clients.

The witness runs as its own process (`ledger witness serve`); the hostile log is a small HTTP
server in this test that signs both histories with the project's own checkpoint code and a real
key. The witness cosigns history A and refuses history B (409) keeping the evidence; `ledger
monitor` catches the fork, from its own earlier view and from the witness's; the witness policy
fails for B's uncosigned checkpoint. The saved evidence is two notes signed by the log key.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.integrity.keyring import key_id
from ledger.integrity.merkle import consistency_proof, leaf_hash, root_from_leaf_hashes
from ledger.integrity.note import Ed25519Verifier, open_checkpoint, parse_note, sign_note
from ledger.integrity.tlog_witness import format_add_checkpoint
from ledger.integrity.trust_root import RootKey, TrustRoot
from ledger.integrity.witness_policy import QuorumNotMetError, parse_witness_policy
from ledger.log.checkpoints import checkpoint_text
from ledger.witness.monitor import LogTrust, check_evidence
from tests.e2e.conftest import ROOT, free_port

ORIGIN = "hostile.test/log"
SIGNED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class History:
    leaves: list[bytes]
    key: Ed25519PrivateKey
    cosignatures: dict[int, str] = field(default_factory=dict)

    def hashes(self, size: int) -> list[bytes]:
        return [leaf_hash(x) for x in self.leaves[:size]]

    def root(self, size: int) -> bytes:
        return root_from_leaf_hashes(self.hashes(size))

    def note(self, size: int) -> str:
        text = checkpoint_text(ORIGIN, size, self.root(size), SIGNED_AT)
        return sign_note(text, ORIGIN, self.key)

    def served_note(self, size: int) -> str:
        return self.note(size) + self.cosignatures.get(size, "")

    def proof(self, first: int, second: int) -> list[bytes]:
        hashes = self.hashes(second)

        def node(level: int, index: int) -> bytes:
            return root_from_leaf_hashes(hashes[index << level : (index + 1) << level])

        return consistency_proof(first, second, node)


class HostileLog(ThreadingHTTPServer):
    """`/a/...` and `/b/...`: the same log, the same size, two different histories."""

    histories: dict[str, History]
    size: int


class Handler(BaseHTTPRequestHandler):
    server: HostileLog

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        client, _, route = parts.path.lstrip("/").partition("/")
        history = self.server.histories.get(client)
        if history is None:
            return self._send(404, b"no such client\n")
        if route == "log/checkpoint":
            return self._send(200, history.served_note(self.server.size).encode())
        if route == "log/proof/consistency":
            query = parse_qs(parts.query)
            first, second = int(query["from"][0]), int(query["to"][0])
            proof = [base64.b64encode(h).decode() for h in history.proof(first, second)]
            body = {"first": first, "second": second, "proof": proof}
            return self._send(200, json.dumps(body).encode(), "application/json")
        return self._send(404, b"not found\n")

    def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@dataclass
class Drill:
    base: str
    log: HostileLog
    a: History
    b: History
    witness_url: str
    witness_dir: Path
    trust: Path
    policy: Path
    log_verifier: Ed25519Verifier


def ledger(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        env=server_env_plain(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def server_env_plain() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    key = Ed25519PrivateKey.generate()
    common = [f"entry {i}".encode() for i in range(4)]
    a = History(common + [f"honest {i}".encode() for i in range(4, 8)], key)
    b = History(common + [f"hidden {i}".encode() for i in range(4, 8)], key)
    log = HostileLog(("127.0.0.1", 0), Handler)
    log.histories = {"a": a, "b": b}
    log.size = 8
    threading.Thread(target=log.serve_forever, daemon=True).start()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    verifier = Ed25519Verifier(ORIGIN, public)
    root = TrustRoot(
        ORIGIN, leaf_hash(common[0]).hex(), (RootKey(key_id(public), "checkpoints", public),)
    )
    trust = tmp_path / "trust-root.json"
    trust.write_text(root.text())

    witness_dir = tmp_path / "witness"
    assert (
        ledger(
            "witness", "init", "--dir", str(witness_dir), "--name", "witness.test/w1", cwd=tmp_path
        ).returncode
        == 0
    )
    added = ledger("witness", "add-log", "--dir", str(witness_dir), verifier.vkey(), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    witness_vkey = ledger("witness", "key", "--dir", str(witness_dir), cwd=tmp_path).stdout.strip()
    port = free_port()
    log_file = (tmp_path / "witness.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger",
            "witness",
            "serve",
            "--dir",
            str(witness_dir),
            "--port",
            str(port),
        ],
        env=server_env_plain(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    witness_url = f"http://127.0.0.1:{port}"
    policy = tmp_path / "witnesses.policy"
    policy.write_text(f"witness partner {witness_vkey} {witness_url}\nquorum partner\n")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{witness_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "witness.log").read_text()
            assert time.monotonic() < deadline, "the witness did not start"
            time.sleep(0.1)
        yield Drill(
            f"http://127.0.0.1:{log.server_address[1]}",
            log,
            a,
            b,
            witness_url,
            witness_dir,
            trust,
            policy,
            verifier,
        )
    finally:
        process.terminate()
        process.wait(timeout=20)
        log_file.close()
        log.shutdown()


def submit(drill: Drill, old: int, proof: list[bytes], note: str) -> httpx.Response:
    body = format_add_checkpoint(old, proof, note)
    return httpx.post(f"{drill.witness_url}/add-checkpoint", content=body, timeout=10)


def test_split_view_is_refused_by_the_witness_and_caught_by_the_monitor(
    drill: Drill, tmp_path: Path
) -> None:
    a, b = drill.a, drill.b
    assert a.root(4) == b.root(4)
    assert a.root(8) != b.root(8)

    # The log gets history A cosigned, as an honest log would.
    assert submit(drill, 0, [], a.note(4)).status_code == 200
    answer = submit(drill, 4, a.proof(4, 8), a.note(8))
    assert answer.status_code == 200
    a.cosignatures[8] = answer.text

    # History B of the same size: the witness refuses it and keeps the evidence.
    refused = submit(drill, 4, b.proof(4, 8), b.note(8))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "text/x.tlog.size"
    assert refused.content == b"8\n"
    kept = ledger("witness", "evidence", "--dir", str(drill.witness_dir), cwd=tmp_path)
    [evidence] = json.loads(kept.stdout)
    assert evidence["kind"] == "fork"
    assert "it has cosigned size 8 for origin hostile.test/log" in evidence["reason"]
    signed = [evidence["cosigned_note"], evidence["submitted_note"]]
    opened = [open_checkpoint(n, [drill.log_verifier], origin=ORIGIN)[0] for n in signed]
    assert [c.size for c in opened] == [8, 8]
    assert opened[0].root_hash == a.root(8)
    assert opened[1].root_hash == b.root(8)

    # A monitor that saw A earlier is shown B: fork, with both signed checkpoints saved.
    state, saved = tmp_path / "monitor-state.json", tmp_path / "fork.json"
    first = ledger(
        "monitor",
        f"{drill.base}/a",
        "--trust",
        str(drill.trust),
        "--state",
        str(state),
        "--once",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    second = ledger(
        "monitor",
        f"{drill.base}/b",
        "--trust",
        str(drill.trust),
        "--state",
        str(state),
        "--evidence",
        str(saved),
        "--once",
        cwd=tmp_path,
    )
    assert second.returncode == 1, second.stdout + second.stderr
    assert "FORK: two checkpoints of size 8 with different roots" in second.stdout
    data = json.loads(saved.read_text())
    notes = [c["note"] for c in data["checkpoints"]]
    assert [parse_note(n)[0] for n in notes] == [parse_note(a.note(8))[0], parse_note(b.note(8))[0]]
    trust = LogTrust.load(drill.trust)
    assert "different roots" in check_evidence(data, trust)
    for note in notes:
        open_checkpoint(note, [drill.log_verifier], origin=ORIGIN)

    # A monitor with no history of its own catches it from the witness's cosigned view.
    fresh = ledger(
        "monitor",
        f"{drill.base}/b",
        "--trust",
        str(drill.trust),
        "--witnesses",
        str(drill.policy),
        "--evidence",
        str(tmp_path / "fork2.json"),
        "--once",
        cwd=tmp_path,
    )
    assert fresh.returncode == 1, fresh.stdout + fresh.stderr
    assert "FORK" in fresh.stdout
    assert (
        "witness partner"
        in json.loads((tmp_path / "fork2.json").read_text())["checkpoints"][0]["source"]
    )

    # Client A's view is witnessed and meets the policy; client B's fails it.
    honest = ledger(
        "monitor",
        f"{drill.base}/a",
        "--trust",
        str(drill.trust),
        "--witnesses",
        str(drill.policy),
        "--once",
        cwd=tmp_path,
    )
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert "witnesses: cosigned by 1 witness(es) (partner)" in honest.stdout
    policy = parse_witness_policy(drill.policy.read_text())
    policy.check(a.served_note(8))
    with pytest.raises(QuorumNotMetError, match="cosigned by 0 witness"):
        policy.check(b.served_note(8))
