"""eddsa-jcs-2022 against the W3C test vectors, byte for byte; Bitstring Status List bit order."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.credentials import multibase
from ledger.credentials.dataintegrity import ProofError, add_proof, hash_data, verify_proof
from ledger.credentials.status_list import Bitstring, StatusListError
from ledger.integrity.canonical import canonical_bytes

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "vc" / "vc-di-eddsa" / "TestVectors"
JCS = VECTORS / "eddsa-jcs-2022"


def text(name: str) -> str:
    return (JCS / name).read_text().strip()


def key_pair() -> tuple[Ed25519PrivateKey, bytes]:
    keys = json.loads((VECTORS / "keyPair.json").read_text())
    seed = multibase.private_key_from_multikey(keys["privateKeyMultibase"])
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = multibase.public_key_from_multikey(keys["publicKeyMultibase"])
    assert private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == public
    return private, public


def test_the_multikey_round_trips_the_vector_key() -> None:
    _, public = key_pair()
    assert (
        multibase.public_multikey(public)
        == json.loads((VECTORS / "keyPair.json").read_text())["publicKeyMultibase"]
    )


def test_the_transformed_document_and_hashes_match_the_vector() -> None:
    unsigned = json.loads((VECTORS / "unsigned.json").read_text())
    options = json.loads((JCS / "proofConfigJCS.json").read_text())
    assert canonical_bytes(unsigned).decode() == text("canonDocJCS.txt")
    assert hashlib.sha256(canonical_bytes(unsigned)).hexdigest() == text("docHashJCS.txt")
    assert canonical_bytes(options).decode() == text("proofCanonJCS.txt")
    assert hashlib.sha256(canonical_bytes(options)).hexdigest() == text("proofHashJCS.txt")
    assert hash_data(unsigned, options).hex() == text("combinedHashJCS.txt")


def test_the_signed_credential_is_reproduced_byte_for_byte() -> None:
    private, public = key_pair()
    unsigned = json.loads((VECTORS / "unsigned.json").read_text())
    expected = json.loads((JCS / "signedJCS.json").read_text())
    proof = expected["proof"]
    secured = add_proof(unsigned, private, proof["verificationMethod"], proof["created"])
    assert secured["proof"]["proofValue"] == text("sigBTC58JCS.txt")
    assert multibase.decode(secured["proof"]["proofValue"]).hex() == text("sigHexJCS.txt")
    assert canonical_bytes(secured) == canonical_bytes(expected)
    verify_proof(expected, expected["proof"], public)


def test_changing_any_field_of_the_vector_credential_fails_verification() -> None:
    _, public = key_pair()
    expected = json.loads((JCS / "signedJCS.json").read_text())
    for field in [k for k in expected if k != "proof"]:
        changed = json.loads(json.dumps(expected))
        changed[field] = "tampered"
        with pytest.raises(ProofError, match="does not verify|@context differs"):
            verify_proof(changed, changed["proof"], public)
    changed = json.loads(json.dumps(expected))
    changed["proof"]["created"] = "2024-01-01T00:00:00Z"
    with pytest.raises(ProofError, match="does not verify"):
        verify_proof(changed, changed["proof"], public)


def test_the_status_list_bit_order_is_most_significant_bit_first() -> None:
    bits = Bitstring()
    for index in (0, 7, 9, 131_071):
        bits.set(index, True)
    raw = gzip.decompress(base64.urlsafe_b64decode(bits.encode()[1:] + "=="))
    # Hand-computed: index 0 -> 0x80 of byte 0, 7 -> 0x01 of byte 0, 9 -> 0x40 of byte 1,
    # 131,071 -> 0x01 of the last byte.
    assert (raw[0], raw[1], raw[-1], len(raw)) == (0x81, 0x40, 0x01, 16_384)
    assert sum(raw[2:-1]) == 0
    decoded = Bitstring.decode(bits.encode())
    assert [decoded.get(i) for i in (0, 1, 7, 8, 9, 131_070, 131_071)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
    ]
    assert bits.encode().startswith("u")


def test_status_lists_refuse_short_lists_and_out_of_range_indices() -> None:
    with pytest.raises(StatusListError, match="at least 131072"):
        Bitstring(1024)
    with pytest.raises(StatusListError, match="outside the list"):
        Bitstring().get(131_072)
