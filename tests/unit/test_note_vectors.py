"""Known-answer tests for ledger.integrity.note (C2SP signed-note, tlog-checkpoint,
tlog-cosignature) against tests/vectors/tlog/signed_note (provenance in SOURCES.md).

* notes.json: the C2SP example, Go sumdb PeterNeumann (with private key) and
  EnochRoot notes, real sum.golang.org checkpoints, C2SP checkpoint and
  cosignature examples (no public keys given: parsed, not verified) and the Go
  "go.sum database tree" format.
* demo_checkpoint_8leaf.txt / demo_keys.json: a checkpoint of the 8-leaf
  reference tree signed by a deterministic demo log key plus a
  tlog-cosignature/v1 witness line, reproduced here byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.merkle import CompactRange, leaf_hash, verify_consistency
from ledger.integrity.note import (
    SIG_TYPE_COSIGNATURE_V1,
    SIG_TYPE_ED25519,
    AmbiguousKeyError,
    Checkpoint,
    CosignatureV1Verifier,
    Ed25519Signer,
    Ed25519Verifier,
    InvalidSignatureError,
    MalformedCheckpointError,
    MalformedKeyError,
    MalformedNoteError,
    OriginMismatchError,
    Signature,
    UnverifiedNoteError,
    cosignature_v1_message,
    format_note,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_cosignature_v1,
    sign_ed25519,
    sign_note,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tlog"
SIGNED_NOTE = VECTORS / "signed_note"
NOTES: dict[str, Any] = json.loads((SIGNED_NOTE / "notes.json").read_text(encoding="utf-8"))
NOTE_VECTORS: list[dict[str, Any]] = NOTES["notes"]
BY_NAME = {n["name"]: n for n in NOTE_VECTORS}
CHECKPOINT_EXAMPLES = {c["name"]: c for c in NOTES["checkpoint_examples"]}
DEMO_NOTE = (SIGNED_NOTE / "demo_checkpoint_8leaf.txt").read_text(encoding="utf-8")
DEMO_KEYS: dict[str, Any] = json.loads((SIGNED_NOTE / "demo_keys.json").read_text("utf-8"))
CT8: dict[str, Any] = json.loads((VECTORS / "ct_reference_tree_8.json").read_text("utf-8"))

PETER = BY_NAME["go-sumdb-note-PeterNeumann"]
ENOCH = BY_NAME["go-sumdb-note-EnochRoot"]


def _ids(vec: dict[str, Any]) -> str:
    return str(vec["name"])


def _sig_line(note: str, index: int = 0) -> str:
    return [line for line in note.split("\n") if line.startswith("\u2014 ")][index]


# --------------------------------------------------------------------------- #
# Keys
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("vec", NOTE_VECTORS, ids=_ids)
def test_verifier_key_parses_and_key_id_is_sha256_of_name_newline_type_key(
    vec: dict[str, Any],
) -> None:
    verifier = parse_verifier_key(vec["vkey"])
    name, hex_id, material_b64 = vec["vkey"].split("+", 2)
    material = base64.b64decode(material_b64)
    assert material[0] == SIG_TYPE_ED25519
    assert isinstance(verifier, Ed25519Verifier)
    assert verifier.name == name
    assert f"{verifier.key_id:08x}" == hex_id
    assert key_id(name, SIG_TYPE_ED25519, material[1:]) == verifier.key_id
    digest = hashlib.sha256(name.encode() + b"\n\x01" + material[1:]).digest()
    assert digest[:4].hex() == hex_id
    assert verifier.vkey() == vec["vkey"]


def test_signer_key_parses_to_the_published_verifier_key() -> None:
    signer = parse_signer_key(PETER["skey"])
    assert signer.name == "PeterNeumann"
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert signer.verifier().vkey() == PETER["vkey"]
    assert signer.skey() == PETER["skey"]


def test_demo_vkeys_have_documented_key_ids_and_types() -> None:
    log = parse_verifier_key(DEMO_KEYS["log_vkey"])
    witness = parse_verifier_key(DEMO_KEYS["witness_cosig_vkey"])
    assert isinstance(log, Ed25519Verifier)
    assert isinstance(witness, CosignatureV1Verifier)
    assert (log.name, f"{log.key_id:08x}") == ("example.com/certledger/log1", "bfd0d4c1")
    assert (witness.name, f"{witness.key_id:08x}") == ("witness.example/w1", "649a492a")
    log_seed = hashlib.sha256(b"demo log key").digest()
    witness_seed = hashlib.sha256(b"demo witness key").digest()
    log_signer = Ed25519Signer(log.name, Ed25519PrivateKey.from_private_bytes(log_seed))
    assert log_signer.verifier().vkey() == log.vkey()
    witness_pub = Ed25519PrivateKey.from_private_bytes(witness_seed).public_key()
    assert CosignatureV1Verifier(witness.name, witness_pub).vkey() == witness.vkey()
    assert witness.key_id == key_id(witness.name, SIG_TYPE_COSIGNATURE_V1, witness.public_key_bytes)


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("PeterNeumann+c74f20az+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex digits"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid key name"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "invalid key name"),
        ("PeterNeumann+c74f20a3", "must have the form"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW", "invalid base64"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "type 0x02"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10Q=", "length 31"),
        ("PeterNeumann+c74f20a3+", "key material is empty"),
    ],
)
def test_malformed_or_inconsistent_verifier_key_is_rejected(vkey: str, message: str) -> None:
    with pytest.raises(MalformedKeyError, match=message):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    ("skey", "message"),
    [
        (PETER["skey"].replace("PRIVATE+KEY+", "PRIVATE+"), "must start with"),
        (PETER["skey"].replace("c74f20a3", "c74f20a4"), "does not match"),
        (PETER["skey"].replace("+AYEK", "+AoEK"), "type 0x02"),
    ],
)
def test_malformed_or_inconsistent_signer_key_is_rejected(skey: str, message: str) -> None:
    with pytest.raises(MalformedKeyError, match=message):
        parse_signer_key(skey)


# --------------------------------------------------------------------------- #
# Verifying and reproducing the vector notes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("vec", NOTE_VECTORS, ids=_ids)
def test_vector_note_verifies_with_its_verifier_key(vec: dict[str, Any]) -> None:
    assert vec["expect_valid"] is True
    verifier = parse_verifier_key(vec["vkey"])
    text, signatures = open_note(vec["signed_note"], [verifier])
    assert vec["signed_note"].startswith(text + "\n\u2014 ")
    assert [(s.name, s.key_id) for s in signatures] == [(verifier.name, verifier.key_id)]
    # Bytes input is accepted too.
    assert open_note(vec["signed_note"].encode("utf-8"), [verifier]) == (text, signatures)


def test_sumdb_note_is_reproduced_byte_for_byte_from_the_private_key() -> None:
    signer = parse_signer_key(PETER["skey"])
    text, _ = parse_note(PETER["signed_note"])
    assert sign_note(text, signer.name, signer.private_key) == PETER["signed_note"]
    assert format_note(text, [signer.sign(text)]) == PETER["signed_note"]


def test_signature_from_unknown_key_is_ignored_when_a_known_one_verifies() -> None:
    vec = BY_NAME["go-sumdb-note-two-sigs-one-known"]
    text, signatures = open_note(vec["signed_note"], [parse_verifier_key(PETER["vkey"])])
    assert [s.name for s in signatures] == ["PeterNeumann"]
    both = [parse_verifier_key(PETER["vkey"]), parse_verifier_key(ENOCH["vkey"])]
    _, signatures = open_note(vec["signed_note"], both)
    assert [s.name for s in signatures] == ["PeterNeumann", "EnochRoot"]
    assert text == parse_note(ENOCH["signed_note"])[0]


def test_note_signed_only_by_unknown_keys_raises_unverified_note_error() -> None:
    with pytest.raises(UnverifiedNoteError, match=r"EnochRoot\+af0cfe78") as info:
        open_note(ENOCH["signed_note"], [parse_verifier_key(PETER["vkey"])])
    assert [s.name for s in info.value.signatures] == ["EnochRoot"]
    with pytest.raises(UnverifiedNoteError):
        open_note(ENOCH["signed_note"], [])


def test_signature_with_known_name_but_other_key_id_is_treated_as_unknown() -> None:
    # Same name, different key: C2SP requires ignoring it, not failing verification.
    other = Ed25519Verifier("EnochRoot", parse_verifier_key(PETER["vkey"]).public_key_bytes)
    with pytest.raises(UnverifiedNoteError):
        open_note(ENOCH["signed_note"], [other])


@pytest.mark.parametrize(
    "vec", [v for v in NOTE_VECTORS if "sum.golang.org" in v["name"]], ids=_ids
)
def test_real_sum_golang_org_checkpoint_opens_as_go_sum_database_tree(vec: dict[str, Any]) -> None:
    checkpoint, signatures = open_checkpoint(
        vec["signed_note"], [parse_verifier_key(vec["vkey"])], origin="go.sum database tree"
    )
    assert checkpoint.size > 0
    assert checkpoint.extensions == ()
    assert checkpoint.to_text() == parse_note(vec["signed_note"])[0]
    assert [s.name for s in signatures] == ["sum.golang.org"]


def test_checkpoint_with_unexpected_origin_raises_origin_mismatch() -> None:
    vec = BY_NAME["sum.golang.org-real-checkpoint-0"]
    with pytest.raises(OriginMismatchError, match=r"want 'example\.com/log'"):
        open_checkpoint(
            vec["signed_note"], [parse_verifier_key(vec["vkey"])], origin="example.com/log"
        )


# --------------------------------------------------------------------------- #
# Mutations of valid notes
# --------------------------------------------------------------------------- #


def _peter() -> tuple[str, Ed25519Verifier]:
    verifier = parse_verifier_key(PETER["vkey"])
    assert isinstance(verifier, Ed25519Verifier)
    return PETER["signed_note"], verifier


def _flip_signature_byte(note: str, offset: int) -> str:
    line = _sig_line(note)
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[offset] ^= 0x01
    return note.replace(line, f"{prefix} {base64.b64encode(bytes(raw)).decode()}")


def test_modified_note_text_fails_with_invalid_signature() -> None:
    note, verifier = _peter()
    with pytest.raises(InvalidSignatureError, match=r"PeterNeumann\+c74f20a3"):
        open_note(note.replace("cryptography", "cryptographY"), [verifier])


def test_flipped_signature_bit_fails_with_invalid_signature() -> None:
    note, verifier = _peter()
    for offset in (4, 40, 67):  # first, middle and last byte of the Ed25519 signature
        with pytest.raises(InvalidSignatureError, match="does not verify"):
            open_note(_flip_signature_byte(note, offset), [verifier])


def test_flipped_key_id_bit_makes_the_signature_unknown() -> None:
    note, verifier = _peter()
    with pytest.raises(UnverifiedNoteError):
        open_note(_flip_signature_byte(note, 0), [verifier])


def test_truncated_signature_from_known_key_fails_with_invalid_signature() -> None:
    note, verifier = _peter()
    line = _sig_line(note)
    raw = base64.b64decode(line.rsplit(" ", 1)[1])[:-1]
    short = note.replace(line, f"\u2014 PeterNeumann {base64.b64encode(raw).decode()}")
    with pytest.raises(InvalidSignatureError, match="length 63, want 64"):
        open_note(short, [verifier])


def test_bad_signature_from_known_key_rejects_note_even_if_another_verifies() -> None:
    note, verifier = _peter()
    bad_line = _sig_line(_flip_signature_byte(note, 10))
    with pytest.raises(InvalidSignatureError):
        open_note(note + bad_line + "\n", [verifier])


def test_duplicate_signature_lines_are_reported_once() -> None:
    note, verifier = _peter()
    _, signatures = open_note(note + _sig_line(note) + "\n", [verifier])
    assert len(signatures) == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda n: n.replace("\n\n\u2014", "\n\u2014"), "no blank line"),
        (lambda n: n[:-1], "does not end with a newline"),
        (lambda n: n.replace("\u2014 ", "- "), "em dash"),
        (lambda n: n.replace("\u2014 ", "\u2013 "), "em dash"),
        (lambda n: n.replace("\u2014 PeterNeumann ", "\u2014 PeterNeumann"), "no signature"),
        (lambda n: n.replace("\u2014 PeterNeumann", "\u2014 Peter+Neumann"), "invalid key name"),
        (lambda n: n.replace("\u2014 PeterNeumann", "\u2014 Peter\u00a0Neumann"), "invalid key"),
        (lambda n: n.replace("\u2014 PeterNeumann ", "\u2014  "), "invalid key name"),
        (lambda n: n.replace("JnAM=\n", "JnAN=\n"), "non-canonical base64"),
        (lambda n: n.replace("JnAM=\n", "JnAM\n"), "invalid base64"),
        (lambda n: n.replace("x08go/", "x08go_"), "invalid base64"),
        (lambda n: n.replace("x08go/ZJ", "x08go/ZJ\r"), "control character U\\+000D"),
        (lambda n: n.replace("cryptography", "crypto\tgraphy"), "control character U\\+0009"),
        (lambda n: n + "\n", "no signature lines"),
        (lambda n: n.split("\u2014")[0] + "\u2014 PeterNeumann AAAA\n", "at least 5"),
    ],
)
def test_malformed_note_is_rejected_with_malformed_note_error(mutate: Any, message: str) -> None:
    note, verifier = _peter()
    with pytest.raises(MalformedNoteError, match=message):
        open_note(mutate(note), [verifier])


def test_note_bytes_that_are_not_utf8_are_malformed() -> None:
    note, verifier = _peter()
    with pytest.raises(MalformedNoteError, match="not valid UTF-8"):
        open_note(note.encode("utf-8").replace(b"you", b"y\xffu"), [verifier])


def test_note_with_too_many_signatures_is_malformed() -> None:
    note, verifier = _peter()
    line = _sig_line(ENOCH["signed_note"]) + "\n"
    with pytest.raises(MalformedNoteError, match="limit 100"):
        open_note(note + line * 100, [verifier])


def test_sixteen_unknown_signatures_plus_known_one_are_accepted() -> None:
    note, verifier = _peter()
    signer = Ed25519Signer("x", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    text, _ = parse_note(note)
    extra = "".join(
        Signature(f"w{i}", signer.key_id, signer.sign(text).signature).to_line() for i in range(16)
    )
    _, signatures = open_note(note + extra, [verifier])
    assert [s.name for s in signatures] == ["PeterNeumann"]


def test_two_verifiers_with_same_name_and_key_id_are_ambiguous() -> None:
    a = parse_verifier_key(PETER["vkey"])
    b = parse_verifier_key(PETER["vkey"])
    with pytest.raises(AmbiguousKeyError, match=r"PeterNeumann\+c74f20a3"):
        open_note(PETER["signed_note"], [a, b])


def test_signing_rejects_text_without_final_newline_or_bad_key_name() -> None:
    key = parse_signer_key(PETER["skey"]).private_key
    with pytest.raises(MalformedNoteError, match="end with a newline"):
        sign_note("no newline", "PeterNeumann", key)
    with pytest.raises(MalformedNoteError, match="control character"):
        sign_note("bell\a\n", "PeterNeumann", key)
    with pytest.raises(MalformedKeyError, match="invalid key name"):
        sign_note("text\n", "Peter Neumann", key)
    with pytest.raises(MalformedNoteError, match="at least one signature"):
        format_note("text\n", [])


def test_note_text_may_contain_blank_lines_and_splits_at_the_last_one() -> None:
    signer = parse_signer_key(PETER["skey"])
    text = "first\n\nsecond\n\n"
    note = sign_note(text, signer.name, signer.private_key)
    assert open_note(note, [signer.verifier()])[0] == text


# --------------------------------------------------------------------------- #
# Checkpoints and cosignatures
# --------------------------------------------------------------------------- #


def test_c2sp_checkpoint_example_parses_and_is_unverified_without_its_key() -> None:
    example = CHECKPOINT_EXAMPLES["c2sp-tlog-checkpoint-example"]
    text, signatures = parse_note(example["signed_note"])
    checkpoint = parse_checkpoint(text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash).decode() == (
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    )
    assert checkpoint.to_text() == text
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa"]
    with pytest.raises(UnverifiedNoteError, match="1 signature"):
        open_checkpoint(example["signed_note"], [])


def test_c2sp_cosignature_example_timestamp_and_signed_message_match_the_spec() -> None:
    example = CHECKPOINT_EXAMPLES["c2sp-tlog-cosignature-example"]
    text, signatures = parse_note(example["signed_note"])
    cosig = signatures[1]
    assert cosig.name == "witness.example.com/w1"
    assert len(cosig.signature) == 8 + 64
    assert cosig.cosignature_timestamp() == 1679315147
    message = cosignature_v1_message(text.encode(), cosig.cosignature_timestamp())
    assert message == example["cosigned_message_example"].encode()


def test_go_sumdb_tree_format_parses_with_record_hash_root() -> None:
    vec = NOTES["go_sumdb_tree_format"]
    checkpoint = parse_checkpoint(vec["text"])
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == vec["tree_size"]
    assert checkpoint.root_hash == leaf_hash(vec["root_is_RecordHash_of"].encode())
    assert checkpoint.to_text() == vec["text"]


def test_demo_checkpoint_verifies_log_signature_and_witness_cosignature() -> None:
    log = parse_verifier_key(DEMO_KEYS["log_vkey"])
    witness = parse_verifier_key(DEMO_KEYS["witness_cosig_vkey"])
    checkpoint, signatures = open_checkpoint(
        DEMO_NOTE, [log, witness], origin="example.com/certledger/log1"
    )
    assert checkpoint.size == 8
    assert checkpoint.root_hash.hex() == CT8["roots_hex_by_size"]["8"]
    assert [s.name for s in signatures] == [log.name, witness.name]
    assert signatures[1].cosignature_timestamp() == 1_700_000_000
    # The log key alone suffices; the cosignature is then an unknown signature.
    assert [s.name for s in open_note(DEMO_NOTE, [log])[1]] == [log.name]


def test_demo_checkpoint_is_reproduced_byte_for_byte_from_the_demo_seeds() -> None:
    log_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"demo log key").digest())
    witness_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"demo witness key").digest())
    rng = CompactRange()
    rng.extend(leaf_hash(bytes.fromhex(x)) for x in CT8["leaves_hex"])
    text = Checkpoint("example.com/certledger/log1", rng.size, rng.root()).to_text()
    note = format_note(
        text,
        [
            sign_ed25519(text, "example.com/certledger/log1", log_key),
            sign_cosignature_v1(text, "witness.example/w1", witness_key, 1_700_000_000),
        ],
    )
    assert note == DEMO_NOTE


def test_demo_cosignature_with_altered_timestamp_fails_with_invalid_signature() -> None:
    witness = parse_verifier_key(DEMO_KEYS["witness_cosig_vkey"])
    line = _sig_line(DEMO_NOTE, 1)
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[11] ^= 0x01  # last byte of the 8-byte timestamp after the 4-byte key ID
    note = DEMO_NOTE.replace(line, f"{prefix} {base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(InvalidSignatureError, match=r"witness\.example/w1"):
        open_note(note, [witness])


def test_cosignature_is_not_accepted_as_a_plain_ed25519_signature() -> None:
    witness = parse_verifier_key(DEMO_KEYS["witness_cosig_vkey"])
    plain = Ed25519Verifier(witness.name, witness.public_key_bytes)
    assert plain.key_id != witness.key_id
    text = parse_note(DEMO_NOTE)[0]
    cosig = parse_note(DEMO_NOTE)[1][1]
    with pytest.raises(UnverifiedNoteError):
        open_note(format_note(text, [cosig]), [plain])


def test_demo_consistency_proof_6_to_8_verifies_against_reference_roots() -> None:
    proof = [base64.b64decode(p) for p in DEMO_KEYS["consistency_6_to_8_b64"]]
    checkpoint = parse_checkpoint(parse_note(DEMO_NOTE)[0])
    root6 = bytes.fromhex(CT8["roots_hex_by_size"]["6"])
    verify_consistency(6, checkpoint.size, proof, root6, checkpoint.root_hash)


ROOT_B64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"log\n8\n{ROOT_B64}", "end with a newline"),
        ("log\n8\n", "at least 3"),
        (f"\n8\n{ROOT_B64}\n", "origin is empty"),
        (f"log\n08\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n+8\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n 8\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n-1\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n\uff18\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n\n{ROOT_B64}\n", "not canonical decimal"),
        (f"log\n{2**64}\n{ROOT_B64}\n", "not a uint64"),
        ("log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n", "invalid base64"),
        ("log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n", "invalid base64"),
        ("log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n", "non-canonical base64"),
        ("log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n", "length 31, want 32"),
        (f"log\n8\n{ROOT_B64}\next\n\n", "extension line is empty"),
        (f"log\n8\n{ROOT_B64}\n\next\n", "extension line is empty"),
        (f"lo\rg\n8\n{ROOT_B64}\n", "control character"),
    ],
)
def test_malformed_checkpoint_text_is_rejected(text: str, message: str) -> None:
    with pytest.raises(MalformedCheckpointError, match=message):
        parse_checkpoint(text)


def test_checkpoint_with_size_zero_and_extension_lines_round_trips() -> None:
    text = f"example.com/log\n0\n{ROOT_B64}\nfirst extension\nsecond\n"
    checkpoint = parse_checkpoint(text)
    assert checkpoint.size == 0
    assert checkpoint.extensions == ("first extension", "second")
    assert checkpoint.to_text() == text


def test_checkpoint_constructor_rejects_values_that_cannot_be_serialised() -> None:
    root = base64.b64decode(ROOT_B64)
    with pytest.raises(MalformedCheckpointError, match="newline"):
        Checkpoint("a\nb", 1, root)
    with pytest.raises(MalformedCheckpointError, match="not a uint64"):
        Checkpoint("a", -1, root)
    with pytest.raises(MalformedCheckpointError, match="length 3"):
        Checkpoint("a", 1, b"abc")
    with pytest.raises(MalformedCheckpointError, match="extension line is empty"):
        Checkpoint("a", 1, root, ("",))
