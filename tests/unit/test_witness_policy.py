"""Witness policies (C2SP tlog-policy) and the quorum check, against the cosignature vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.note import CosignatureV1Verifier, parse_note
from ledger.integrity.witness_policy import (
    InvalidCosignatureError,
    QuorumNotMetError,
    WitnessPolicyError,
    check_newest_checkpoint,
    load_witness_policy,
    parse_witness_policy,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tlog" / "signed_note"
DEMO_NOTE = (VECTORS / "demo_checkpoint_8leaf.txt").read_text(encoding="utf-8")
DEMO_KEYS: dict[str, Any] = json.loads((VECTORS / "demo_keys.json").read_text())
NOTES: dict[str, Any] = json.loads((VECTORS / "notes.json").read_text())
C2SP_COSIGNED = next(
    c["signed_note"]
    for c in NOTES["checkpoint_examples"]
    if c["name"] == "c2sp-tlog-cosignature-example"
)
W1 = DEMO_KEYS["witness_cosig_vkey"]


def other_vkey(name: str) -> str:
    return CosignatureV1Verifier(name, Ed25519PrivateKey.generate().public_key()).vkey()


def test_demo_checkpoint_meets_a_quorum_of_its_witness() -> None:
    policy = parse_witness_policy(
        f"log {DEMO_KEYS['log_vkey']}\nwitness w1 {W1} https://w1.example\nquorum w1\n"
    )
    result = policy.check(DEMO_NOTE)
    assert result.cosigned == ("w1",)
    assert result.timestamps == {"w1": 1_700_000_000}
    assert policy.witnesses["w1"].url == "https://w1.example"
    assert [v.name for v in policy.logs] == ["example.com/certledger/log1"]


def test_two_of_three_needs_two_and_names_who_cosigned() -> None:
    text = (
        f"witness w1 {W1}\nwitness w2 {other_vkey('w2.example')}\n"
        f"witness w3 {other_vkey('w3.example')}\ngroup g 2 w1 w2 w3\nquorum g\n"
    )
    with pytest.raises(QuorumNotMetError) as caught:
        parse_witness_policy(text).check(DEMO_NOTE)
    assert caught.value.cosigned == ("w1",)
    assert caught.value.size == 8
    assert str(caught.value) == (
        "the checkpoint of size 8 is below the witness quorum: cosigned by 1 witness(es) (w1);"
        " the policy needs 2 of (w1, w2, w3)"
    )


def test_nested_groups_all_and_any() -> None:
    text = (
        f"witness w1 {W1}\nwitness w2 {other_vkey('w2.example')}\n"
        f"witness y1 {other_vkey('y1.example')}\n"
        "group X any w1 w2\ngroup Y any y1\ngroup XY all X Y\nquorum XY\n"
    )
    policy = parse_witness_policy(text)
    assert policy.satisfied_by({"w1", "y1"})
    assert not policy.satisfied_by({"w1", "w2"})
    assert policy.describe() == "2 of ([1 of (w1, w2)], [1 of (y1)])"


def test_quorum_override_counts_of_all_witnesses() -> None:
    text = f"witness w1 {W1}\nwitness w2 {other_vkey('w2.example')}\nquorum none\n"
    policy = parse_witness_policy(text)
    assert policy.check(DEMO_NOTE).cosigned == ("w1",)
    policy.with_quorum(1).check(DEMO_NOTE)
    with pytest.raises(QuorumNotMetError, match=r"needs 2 of \(w1, w2\)"):
        policy.with_quorum(2).check(DEMO_NOTE)
    with pytest.raises(WitnessPolicyError, match="--quorum 3 is impossible"):
        policy.with_quorum(3)


def test_load_with_quorum_needs_no_quorum_line(tmp_path: Path) -> None:
    path = tmp_path / "witnesses"
    path.write_text(f"# partners\nwitness w1 {W1}\n")
    policy = load_witness_policy(path, 1)
    assert policy is not None
    assert policy.check(DEMO_NOTE).cosigned == ("w1",)
    with pytest.raises(WitnessPolicyError, match="no quorum line"):
        load_witness_policy(path)
    assert load_witness_policy(None) is None
    with pytest.raises(WitnessPolicyError, match="--quorum needs --witnesses"):
        load_witness_policy(None, 1)


def test_a_pinned_witness_cosignature_that_does_not_verify_is_an_error() -> None:
    text, signatures = parse_note(DEMO_NOTE)
    raw = bytearray(signatures[1].signature)
    raw[7] ^= 1  # the timestamp
    line = (
        "\u2014 witness.example/w1 "
        + base64.b64encode(signatures[1].key_id.to_bytes(4, "big") + bytes(raw)).decode()
    )
    tampered = text + "\n" + signatures[0].to_line() + line + "\n"
    policy = parse_witness_policy(f"witness w1 {W1}\nquorum w1\n")
    with pytest.raises(InvalidCosignatureError, match="witness w1 does not verify"):
        policy.check(tampered)


def test_c2sp_cosignature_example_from_an_unpinned_witness_is_ignored() -> None:
    policy = parse_witness_policy(f"witness w1 {W1}\nquorum w1\n")
    with pytest.raises(QuorumNotMetError, match=r"cosigned by 0 witness\(es\) \(none\)"):
        policy.check(C2SP_COSIGNED)


def test_newest_checkpoint_decides_the_audit() -> None:
    policy = parse_witness_policy(f"witness w1 {W1}\nquorum w1\n")
    uncosigned = DEMO_NOTE.rsplit("\u2014 witness", 1)[0]
    assert check_newest_checkpoint([(8, uncosigned), (8, DEMO_NOTE)], policy).cosigned == ("w1",)
    with pytest.raises(QuorumNotMetError):
        check_newest_checkpoint([(8, DEMO_NOTE), (8, uncosigned)], policy)
    with pytest.raises(QuorumNotMetError, match="no checkpoint"):
        check_newest_checkpoint([], policy)


@pytest.mark.parametrize(
    ("defect", "text", "message"),
    [
        ("no-quorum", f"witness w1 {W1}\n", "no quorum line"),
        ("two-quorums", f"witness w1 {W1}\nquorum w1\nquorum none\n", "line 3: .*exactly one"),
        ("quorum-undefined", "quorum w9\n", "line 1: quorum 'w9' is not"),
        ("group-before-member", f"group g any w1\nwitness w1 {W1}\nquorum g\n", "line 1"),
        ("threshold-zero", f"witness w1 {W1}\ngroup g 0 w1\nquorum g\n", "line 2: threshold 0"),
        ("threshold-too-big", f"witness w1 {W1}\ngroup g 2 w1\nquorum g\n", "line 2"),
        ("member-twice", f"witness w1 {W1}\ngroup g any w1 w1\nquorum g\n", "same member"),
        ("duplicate-key", f"witness w1 {W1}\nwitness w2 {W1}\nquorum w1\n", "duplicate key"),
        ("name-none", f"witness none {W1}\nquorum none\n", "reserved"),
        ("log-key-as-witness", f"witness w1 {DEMO_KEYS['log_vkey']}\nquorum w1\n", "0x04"),
        ("witness-key-as-log", f"log {W1}\nquorum none\n", "not an Ed25519"),
        ("bad-vkey", "witness w1 nonsense\nquorum none\n", "bad vkey"),
        ("unknown-keyword", "witnesses w1\nquorum none\n", "unknown keyword"),
        ("control-character", f"witness w1 {W1}\r\nquorum w1\n", "control characters"),
    ],
)
def test_malformed_policies_name_the_line(defect: str, text: str, message: str) -> None:
    with pytest.raises(WitnessPolicyError, match=message):
        parse_witness_policy(text)


def test_tabs_comments_and_blank_lines_are_allowed() -> None:
    policy = parse_witness_policy(f"  # comment\n\n\twitness\tw1\t{W1}  \nquorum  w1\n")
    assert list(policy.witnesses) == ["w1"]
