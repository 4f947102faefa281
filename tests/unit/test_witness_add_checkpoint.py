"""The witness's add-checkpoint over HTTP (the real app, a real SQLite file): the cosignature
of the demo vectors reproduced byte for byte, and every status code C2SP tlog-witness names."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from httpx import Client

from ledger.integrity.merkle import EMPTY_ROOT
from ledger.integrity.note import (
    Checkpoint,
    CosignatureV1Verifier,
    Ed25519Verifier,
    open_checkpoint,
    parse_note,
    sign_note,
)
from ledger.integrity.tlog_witness import format_add_checkpoint, origin_hash
from ledger.witness.app import create_app
from ledger.witness.core import Witness
from ledger.witness.folder import WitnessKey, parse_logs
from ledger.witness.storage import WitnessStorage
from tests.unit.test_witness_protocol import SPEC_REQUEST
from tests.witness_support import client as http_client
from tests.witness_support import serving

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tlog"
DEMO_NOTE = (VECTORS / "signed_note" / "demo_checkpoint_8leaf.txt").read_text(encoding="utf-8")
DEMO_KEYS: dict[str, Any] = json.loads((VECTORS / "signed_note" / "demo_keys.json").read_text())
CT8: dict[str, Any] = json.loads((VECTORS / "ct_reference_tree_8.json").read_text())
ORIGIN = "example.com/certledger/log1"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"demo log key").digest())
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"demo witness key").digest())
DEMO_TIME = 1_700_000_000
PROOF_6_8 = [base64.b64decode(h) for h in DEMO_KEYS["consistency_6_to_8_b64"]]


def root(size: int) -> bytes:
    return bytes.fromhex(CT8["roots_hex_by_size"][str(size)])


def note(size: int, root_hash: bytes | None = None, key: Ed25519PrivateKey = LOG_KEY) -> str:
    text = Checkpoint(ORIGIN, size, root(size) if root_hash is None else root_hash).to_text()
    return sign_note(text, ORIGIN, key)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[WitnessStorage]:
    store = WitnessStorage(tmp_path / "witness.sqlite")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def client(storage: WitnessStorage) -> Iterator[Client]:
    logs = parse_logs(f"log {DEMO_KEYS['log_vkey']}\n")
    witness = Witness(
        WitnessKey("witness.example/w1", WITNESS_KEY), logs, storage, lambda: DEMO_TIME
    )
    with serving(create_app(witness)) as base, http_client(base) as test_client:
        yield test_client


def add(client: Client, old: int, proof: list[bytes], signed: str) -> Any:
    return client.post("/add-checkpoint", content=format_add_checkpoint(old, proof, signed))


def test_cosignature_reproduces_the_demo_vector_byte_for_byte(client: Client) -> None:
    assert add(client, 0, [], note(6)).status_code == 200
    answer = add(client, 6, PROOF_6_8, note(8))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    witness_line = DEMO_NOTE.split("\n")[-2] + "\n"
    assert answer.content == witness_line.encode()


def test_cosigned_note_verifies_and_is_served_for_monitors(client: Client) -> None:
    assert client.get(f"/{origin_hash(ORIGIN)}/checkpoint").status_code == 404
    answer = add(client, 0, [], note(8))
    log = Ed25519Verifier(ORIGIN, LOG_KEY.public_key())
    witness = CosignatureV1Verifier("witness.example/w1", WITNESS_KEY.public_key())
    cosigned = note(8) + answer.text
    checkpoint, signatures = open_checkpoint(cosigned, [log, witness], origin=ORIGIN)
    assert (checkpoint.size, len(signatures)) == (8, 2)
    assert signatures[1].cosignature_timestamp() == DEMO_TIME
    served = client.get(f"/{origin_hash(ORIGIN)}/checkpoint")
    assert served.status_code == 200
    assert served.text == cosigned


def test_unknown_origin_is_404(client: Client) -> None:
    answer = client.post("/add-checkpoint", content=SPEC_REQUEST)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "example.com/behind-the-sofa" in answer.json()["detail"]


def test_checkpoint_without_a_signature_by_a_pinned_key_is_403(
    storage: WitnessStorage,
) -> None:
    other = Ed25519PrivateKey.generate()
    logs = parse_logs(
        f"log {Ed25519Verifier('example.com/behind-the-sofa', other.public_key()).vkey()}"
    )
    witness = Witness(WitnessKey("witness.example/w1", WITNESS_KEY), logs, storage)
    with serving(create_app(witness)) as base, http_client(base) as test_client:
        answer = test_client.post("/add-checkpoint", content=SPEC_REQUEST)
    assert answer.status_code == 403
    assert "no signature from a known key" in answer.json()["detail"]


def test_signature_by_the_pinned_key_that_fails_is_403(client: Client) -> None:
    text, signatures = parse_note(note(8))
    raw = bytearray(signatures[0].signature)
    raw[10] ^= 1
    line = signatures[0].to_line().split(" ")[0:2]
    forged = base64.b64encode(signatures[0].key_id.to_bytes(4, "big") + bytes(raw)).decode()
    tampered = text + "\n" + " ".join(line) + " " + forged + "\n"
    answer = add(client, 0, [], tampered)
    assert answer.status_code == 403
    assert "invalid signature" in answer.json()["detail"]


def test_checkpoint_signed_by_another_key_under_the_log_name_is_403(client: Client) -> None:
    answer = add(client, 0, [], note(8, key=Ed25519PrivateKey.generate()))
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("defect", "body"),
    [
        ("old-size-leading-zero", b"old 00\n\n"),
        ("no-blank-line", b"old 0\n"),
        ("checkpoint-not-a-note", b"old 0\n\nexample.com/certledger/log1\n8\n"),
    ],
)
def test_malformed_body_is_400(client: Client, defect: str, body: bytes) -> None:
    assert client.post("/add-checkpoint", content=body).status_code == 400


def test_old_size_above_the_checkpoint_size_is_400(client: Client) -> None:
    answer = add(client, 9, [], note(8))
    assert answer.status_code == 400
    assert "old size 9 is greater than the checkpoint's size 8" in answer.json()["detail"]


def test_wrong_old_size_is_409_with_the_cosigned_size(client: Client) -> None:
    add(client, 0, [], note(6))
    answer = add(client, 0, [], note(8))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size"
    assert answer.content == b"6\n"


def test_never_cosigned_log_answers_409_with_zero(client: Client) -> None:
    answer = add(client, 6, PROOF_6_8, note(8))
    assert (answer.status_code, answer.content) == (409, b"0\n")


def test_consistency_proof_that_does_not_verify_is_422_and_kept(
    client: Client, storage: WitnessStorage
) -> None:
    add(client, 0, [], note(6))
    bad = [PROOF_6_8[0], PROOF_6_8[2], PROOF_6_8[1]]
    answer = add(client, 6, bad, note(8))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    [evidence] = storage.evidence()
    assert (evidence.kind, evidence.old_size) == ("inconsistent", 6)
    assert evidence.submitted_note == note(8)
    assert evidence.cosigned_note is not None
    assert evidence.cosigned_note.startswith(note(6))


def test_proof_with_old_size_zero_is_422(client: Client) -> None:
    assert add(client, 0, PROOF_6_8, note(8)).status_code == 422


def test_size_zero_with_another_root_than_the_empty_tree_is_422(client: Client) -> None:
    assert add(client, 0, [], note(0, root_hash=root(1))).status_code == 422
    assert add(client, 0, [], note(0, root_hash=EMPTY_ROOT)).status_code == 200


def test_same_size_with_another_root_is_422_and_kept_as_a_fork(
    client: Client, storage: WitnessStorage
) -> None:
    add(client, 0, [], note(8))
    answer = add(client, 8, [], note(8, root_hash=root(7)))
    assert answer.status_code == 422
    [evidence] = storage.evidence()
    assert evidence.kind == "fork"


def test_second_history_of_the_same_size_is_409_and_kept_as_a_fork(
    client: Client, storage: WitnessStorage
) -> None:
    add(client, 0, [], note(6))
    add(client, 6, PROOF_6_8, note(8))
    forked = note(8, root_hash=root(7))
    answer = add(client, 6, PROOF_6_8, forked)
    assert (answer.status_code, answer.content) == (409, b"8\n")
    [evidence] = storage.evidence()
    assert (evidence.kind, evidence.submitted_note) == ("fork", forked)
    assert evidence.cosigned_note is not None
    assert parse_note(evidence.cosigned_note)[0] == parse_note(note(8))[0]
    assert "it has cosigned size 8 for origin example.com/certledger/log1" in evidence.reason


def test_rollback_to_a_smaller_checkpoint_is_409_and_kept(
    client: Client, storage: WitnessStorage
) -> None:
    add(client, 0, [], note(8))
    answer = add(client, 0, [], note(6))
    assert (answer.status_code, answer.content) == (409, b"8\n")
    assert [e.kind for e in storage.evidence()] == ["rollback"]


def test_a_stale_old_size_for_a_larger_checkpoint_is_not_evidence(
    client: Client, storage: WitnessStorage
) -> None:
    add(client, 0, [], note(6))
    assert add(client, 0, [], note(8)).status_code == 409
    assert storage.evidence() == []


def test_resubmitting_the_cosigned_checkpoint_cosigns_it_again(client: Client) -> None:
    add(client, 0, [], note(8))
    assert add(client, 8, [], note(8)).status_code == 200


def test_get_on_add_checkpoint_is_405(client: Client) -> None:
    assert client.get("/add-checkpoint").status_code == 405
