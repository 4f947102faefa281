"""The worked example in docs/ledger-format.md verifies with hashlib, json and cryptography alone.

Deliberately imports nothing from `ledger`: this is what an auditor's own verifier does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md").read_text(
    encoding="utf-8"
)


def block(name: str) -> bytes:
    match = re.search(rf"```json {name}\n(.*?)\n```", DOC, re.S)
    assert match, f"no block {name} in the document"
    return match.group(1).encode("utf-8")


def value(label: str) -> str:
    match = re.search(rf"^{label}[^`\n]*`([^`]+)`", DOC, re.M)
    assert match, f"no line starting {label!r} in the document"
    return match.group(1)


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


PUBLIC = base64.b64decode(value("Public key \\(base64\\):"))
KID = value("Key id:")


def verify(stored: bytes) -> dict[str, object]:
    members = json.loads(stored)
    assert canonical(members) == stored, "stored bytes are canonical"
    signature = base64.b64decode(members.pop("sig"))
    Ed25519PublicKey.from_public_bytes(PUBLIC).verify(signature, canonical(members))
    return members


def test_the_key_id_is_derived_from_the_public_key() -> None:
    assert hashlib.sha256(PUBLIC).hexdigest()[:16] == KID


@pytest.mark.parametrize("number", [1, 2])
def test_each_worked_record_verifies_and_matches_its_stated_message_digest_and_signature(
    number: int,
) -> None:
    stored = block(f"worked-example-record-{number}")
    members = verify(stored)
    assert canonical(members) == block(f"worked-example-message-{number}")
    assert members["kid"] == KID
    assert members["version"] == number
    assert hashlib.sha256(b"\x00" + stored).hexdigest() == value(f"Digest of record {number}")
    assert json.loads(stored)["sig"] == value(f"Signature of record {number}")


def test_record_two_links_to_record_one() -> None:
    first, second = block("worked-example-record-1"), block("worked-example-record-2")
    assert verify(first)["prev"] is None
    assert verify(second)["prev"] == hashlib.sha256(b"\x00" + first).hexdigest()


def test_a_changed_byte_in_the_example_fails_verification() -> None:
    stored = block("worked-example-record-2").replace(b'"participants":14', b'"participants":15')
    with pytest.raises(InvalidSignature):
        verify(stored)
