"""Known-answer tests for ledger.integrity.merkle against third-party vectors.

Vectors live in tests/vectors/tlog (provenance in SOURCES.md):

* ct_reference_tree_8.json -- the RFC 6962 8-leaf reference tree used by
  CT / Trillian / transparency-dev: every root for sizes 0..8, node hashes,
  5 inclusion and 5 consistency proofs.
* transparency-dev-merkle/testdata/{inclusion,consistency} -- golden probes,
  each with a ``wantErr`` flag; every file is a test case.
* ct-go-test-cert -- a real CT certificate + SCT; its MerkleTreeLeaf hash is
  the root of a size-1 tree.
* sigstore/rekor_inclusion_checkpoints.json -- real Rekor inclusion proofs
  with their signed checkpoints.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key

from ledger.integrity.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    RootMismatchError,
    TreeError,
    consistency_proof,
    consistency_proof_node_ids,
    inclusion_proof,
    inclusion_proof_node_ids,
    leaf_hash,
    node_hash,
    peak_ids,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from ledger.integrity.note import (
    ECDSAVerifier,
    Ed25519Verifier,
    InvalidSignatureError,
    Verifier,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tlog"
TDEV = VECTORS / "transparency-dev-merkle" / "testdata"
INCLUSION_FILES = sorted((TDEV / "inclusion").rglob("*.json"))
CONSISTENCY_FILES = sorted((TDEV / "consistency").rglob("*.json"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _hex_list(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


# --------------------------------------------------------------------------- #
# 8-leaf reference tree
# --------------------------------------------------------------------------- #

CT8 = _load(VECTORS / "ct_reference_tree_8.json")
CT8_LEAVES = [bytes.fromhex(x) for x in CT8["leaves_hex"]]
CT8_LEAF_HASHES = [leaf_hash(x) for x in CT8_LEAVES]
CT8_ROOTS = {int(k): bytes.fromhex(v) for k, v in CT8["roots_hex_by_size"].items()}


@cache
def _ct8_store() -> dict[tuple[int, int], bytes]:
    """Perfect-subtree hashes of the 8-leaf tree, as stored by a sequencer."""
    store: dict[tuple[int, int], bytes] = {}
    rng = CompactRange()
    for h in CT8_LEAF_HASHES:
        for node in rng.append(h):
            store[(node.level, node.index)] = node.hash
    return store


def _bounded_get_node(size: int) -> Callable[[int, int], bytes]:
    """get_node over the 8-leaf store that refuses nodes not complete within ``size``."""
    store = _ct8_store()

    def get_node(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, f"read incomplete node ({level}, {index})"
        return store[(level, index)]

    return get_node


def test_reference_tree_has_roots_for_all_sizes_0_to_8() -> None:
    assert sorted(CT8_ROOTS) == list(range(9))
    assert len(CT8["inclusion_proofs"]) == 5
    assert len(CT8["consistency_proofs"]) == 5


def test_empty_root_is_sha256_of_empty_string_and_reference_size_0_root() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert CT8_ROOTS[0] == EMPTY_ROOT


def test_leaf_and_node_hashes_equal_reference_node_hashes_per_level() -> None:
    levels = [_hex_list(level) for level in CT8["node_hashes_hex_by_level"]]
    assert levels[0] == CT8_LEAF_HASHES
    for lvl in range(1, len(levels)):
        below = levels[lvl - 1]
        computed = [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)]
        assert computed == levels[lvl]


def test_compact_range_stores_exactly_the_reference_perfect_subtrees() -> None:
    levels = [_hex_list(level) for level in CT8["node_hashes_hex_by_level"]]
    expected = {(lvl, i): h for lvl, hs in enumerate(levels) for i, h in enumerate(hs)}
    assert _ct8_store() == expected


@pytest.mark.parametrize("size", range(9))
def test_root_of_every_prefix_size_matches_reference(size: int) -> None:
    want = CT8_ROOTS[size]
    assert root_from_leaf_hashes(CT8_LEAF_HASHES[:size]) == want
    rng = CompactRange()
    rng.extend(CT8_LEAF_HASHES[:size])
    assert rng.size == size
    assert rng.root() == want
    assert tree_root(size, _bounded_get_node(size)) == want


@pytest.mark.parametrize("size", range(9))
def test_compact_range_restored_from_stored_peaks_continues_to_reference_roots(
    size: int,
) -> None:
    rng = CompactRange.from_store(size, _bounded_get_node(size))
    assert rng.root() == CT8_ROOTS[size]
    assert len(rng.peaks) == len(peak_ids(size))
    for n in range(size, 8):
        rng.append(CT8_LEAF_HASHES[n])
        assert rng.root() == CT8_ROOTS[n + 1]


@pytest.mark.parametrize(
    "vec", CT8["inclusion_proofs"], ids=lambda v: f"leaf{v['leaf_index']}-size{v['tree_size']}"
)
def test_reference_inclusion_proof_is_generated_and_verifies(vec: dict[str, Any]) -> None:
    index, size = vec["leaf_index"], vec["tree_size"]
    want = _hex_list(vec["proof_hex"])
    root = bytes.fromhex(vec["root_hex"])
    leaf = bytes.fromhex(vec["leaf_hash_hex"])
    assert leaf == CT8_LEAF_HASHES[index]
    assert inclusion_proof(index, size, _bounded_get_node(size)) == want
    verify_inclusion(leaf, index, size, want, root)
    assert root_from_inclusion_proof(leaf, index, size, want) == root


@pytest.mark.parametrize(
    "vec", CT8["consistency_proofs"], ids=lambda v: f"{v['size1']}-to-{v['size2']}"
)
def test_reference_consistency_proof_is_generated_and_verifies(vec: dict[str, Any]) -> None:
    size1, size2 = vec["size1"], vec["size2"]
    want = _hex_list(vec["proof_hex"])
    root1, root2 = bytes.fromhex(vec["root1_hex"]), bytes.fromhex(vec["root2_hex"])
    assert consistency_proof(size1, size2, _bounded_get_node(size2)) == want
    verify_consistency(size1, size2, want, root1, root2)
    assert root_from_consistency_proof(size1, size2, want, root1) == root2


def test_every_inclusion_proof_of_the_8_leaf_tree_round_trips() -> None:
    for size in range(1, 9):
        for index in range(size):
            proof = inclusion_proof(index, size, _bounded_get_node(size))
            verify_inclusion(CT8_LEAF_HASHES[index], index, size, proof, CT8_ROOTS[size])


def test_every_consistency_proof_of_the_8_leaf_tree_round_trips() -> None:
    for size2 in range(1, 9):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, size2, _bounded_get_node(size2))
            verify_consistency(size1, size2, proof, CT8_ROOTS[size1], CT8_ROOTS[size2])


def test_node_ids_read_for_reference_proofs_are_documented_nodes() -> None:
    # Leaf 5 of 8: sibling leaf 4, sibling pair (1, 3), left half (2, 0).
    assert inclusion_proof_node_ids(5, 8) == [((0, 4),), ((1, 3),), ((2, 0),)]
    # Leaf 2 of 3: only the left pair (1, 0).
    assert inclusion_proof_node_ids(2, 3) == [((1, 0),)]
    # Leaf 0 of 7: the right half [4, 7) is incomplete and read as (1, 2) + (0, 6).
    assert inclusion_proof_node_ids(0, 7) == [((0, 1),), ((1, 1),), ((1, 2), (0, 6))]
    # 6 -> 8: last old peak (1, 2), then its audit path in the size-8 tree.
    assert consistency_proof_node_ids(6, 8) == [((1, 2),), ((1, 3),), ((2, 0),)]
    # 6 -> 7: the sibling of (1, 2) is the single leaf 6 on the right edge.
    assert consistency_proof_node_ids(6, 7) == [((1, 2),), ((0, 6),), ((2, 0),)]
    # size1 a power of two: the old root is not repeated in the proof.
    assert consistency_proof_node_ids(4, 8) == [((2, 1),)]
    assert consistency_proof_node_ids(8, 8) == []


def test_proof_builders_reject_out_of_range_arguments() -> None:
    get_node = _bounded_get_node(8)
    with pytest.raises(TreeError, match=r"leaf index 8 is not in \[0, 8\)"):
        inclusion_proof(8, 8, get_node)
    with pytest.raises(TreeError, match="0 < size1 <= size2"):
        consistency_proof(0, 8, get_node)
    with pytest.raises(TreeError, match="0 < size1 <= size2"):
        consistency_proof(5, 4, get_node)


def test_compact_range_rejects_bad_leaf_hashes_and_peaks() -> None:
    with pytest.raises(TreeError, match="leaf hash has length 3, want 32"):
        CompactRange().append(b"abc")
    with pytest.raises(TreeError, match="tree of size 3 has 2 peaks, got 1"):
        CompactRange.from_peaks(3, [CT8_ROOTS[2]])


def test_compact_range_append_returns_leaf_then_completed_parents() -> None:
    rng = CompactRange.from_peaks(3, [_ct8_store()[(1, 0)], CT8_LEAF_HASHES[2]])
    completed = rng.append(CT8_LEAF_HASHES[3])
    assert [(n.level, n.index) for n in completed] == [(0, 3), (1, 1), (2, 0)]
    assert completed[-1].hash == CT8_ROOTS[4]
    level, index, h = completed[1]
    assert (level, index, h) == (1, 1, _ct8_store()[(1, 1)])


# --------------------------------------------------------------------------- #
# transparency-dev/merkle golden probes
# --------------------------------------------------------------------------- #


def _rel(path: Path) -> str:
    return path.relative_to(TDEV).as_posix()


def test_transparency_dev_vector_file_counts_match_sources_md() -> None:
    assert len(INCLUSION_FILES) == 98
    assert len(CONSISTENCY_FILES) == 98


@pytest.mark.parametrize("path", INCLUSION_FILES, ids=_rel)
def test_transparency_dev_inclusion_probe_verifies_iff_not_want_err(path: Path) -> None:
    vec = _load(path)
    leaf, root = _b64(vec["leafHash"]), _b64(vec["root"])
    proof = _b64_list(vec["proof"])
    index, size = vec["leafIdx"], vec["treeSize"]
    if vec["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof, root)
    else:
        verify_inclusion(leaf, index, size, proof, root)
        if size <= 8 and root == CT8_ROOTS[size]:
            # Happy paths over the reference tree: our generator agrees.
            assert inclusion_proof(index, size, _bounded_get_node(size)) == proof


@pytest.mark.parametrize("path", CONSISTENCY_FILES, ids=_rel)
def test_transparency_dev_consistency_probe_verifies_iff_not_want_err(path: Path) -> None:
    vec = _load(path)
    root1, root2 = _b64(vec["root1"]), _b64(vec["root2"])
    proof = _b64_list(vec["proof"])
    size1, size2 = vec["size1"], vec["size2"]
    if vec["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, root1, root2)
    else:
        verify_consistency(size1, size2, proof, root1, root2)
        if 0 < size1 <= size2 <= 8 and root2 == CT8_ROOTS[size2]:
            assert consistency_proof(size1, size2, _bounded_get_node(size2)) == proof


@pytest.mark.parametrize(
    ("relpath", "error", "message"),
    [
        ("inclusion/1/leafIdx-plus-@1.json", RootMismatchError, "root mismatch"),
        ("inclusion/1/modified-proof[0]-bit-@3.json", RootMismatchError, "root mismatch"),
        ("inclusion/1/treeSize-div-@2.json", ProofError, "wrong proof size 3, want 2"),
        ("inclusion/2/treeSize-div-@2.json", ProofError, "leaf index 5 is beyond tree size 4"),
        ("inclusion/single-entry/empty-leaf.json", ProofError, "leaf hash has length 0, want 32"),
        ("inclusion/2/wrong-leaf.json", ProofError, "leaf hash has length 9, want 32"),
        ("inclusion/1/trailing-garbage.json", ProofError, "wrong proof size 4, want 3"),
        ("consistency/1/truncated-proof.json", ProofError, "wrong proof size 2, want 3"),
        ("consistency/additional/size1-is-greater-than-size2.json", ProofError, r"size2 \(0\)"),
        ("consistency/additional/size1-is-zero-and-size2-is-not-zero.json", ProofError, "empty"),
        ("consistency/2/wrong-root1.json", RootMismatchError, "first root mismatch"),
        ("consistency/2/wrong-root2.json", RootMismatchError, "second root mismatch"),
        (
            "consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
            RootMismatchError,
            "empty tree root mismatch",
        ),
    ],
)
def test_transparency_dev_failures_raise_the_specific_error(
    relpath: str, error: type[ProofError], message: str
) -> None:
    vec = _load(TDEV / relpath)
    assert vec["wantErr"] is True
    with pytest.raises(error, match=message):
        _verify_probe(relpath, vec)


def _verify_probe(relpath: str, vec: dict[str, Any]) -> None:
    if relpath.startswith("inclusion/"):
        verify_inclusion(
            _b64(vec["leafHash"]),
            vec["leafIdx"],
            vec["treeSize"],
            _b64_list(vec["proof"]),
            _b64(vec["root"]),
        )
    else:
        verify_consistency(
            vec["size1"],
            vec["size2"],
            _b64_list(vec["proof"]),
            _b64(vec["root1"]),
            _b64(vec["root2"]),
        )


def test_root_mismatch_error_carries_expected_and_computed_roots() -> None:
    vec = _load(TDEV / "inclusion/1/random-root.json")
    leaf, root = _b64(vec["leafHash"]), _b64(vec["root"])
    proof = _b64_list(vec["proof"])
    with pytest.raises(RootMismatchError) as info:
        verify_inclusion(leaf, vec["leafIdx"], vec["treeSize"], proof, root)
    assert info.value.expected == root
    assert info.value.computed == CT8_ROOTS[vec["treeSize"]]


# --------------------------------------------------------------------------- #
# certificate-transparency-go test certificate
# --------------------------------------------------------------------------- #

CT_GO_ROOT = bytes.fromhex("04a64b64631b0270d6d204168cd24d0b24b6220c1e5a7efa616ded165bb702e6")


def _ct_merkle_tree_leaf() -> bytes:
    """RFC 6962 MerkleTreeLeaf for the test cert: v1, timestamped_entry, x509_entry."""
    pem = (VECTORS / "ct-go-test-cert" / "test-cert.pem").read_text(encoding="ascii")
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    assert match is not None
    der = base64.b64decode("".join(match.group(1).split()))
    sct = (VECTORS / "ct-go-test-cert" / "test-cert.proof").read_bytes()
    assert sct[0] == 0  # SCT version v1
    timestamp = sct[33:41]  # after version (1) and log id (32)
    return (
        b"\x00\x00"  # version v1, leaf type timestamped_entry
        + timestamp
        + b"\x00\x00"  # entry type x509_entry
        + len(der).to_bytes(3, "big")
        + der
        + b"\x00\x00"  # no CT extensions
    )


def test_ct_go_test_certificate_leaf_hash_is_root_of_size_1_tree() -> None:
    leaf = leaf_hash(_ct_merkle_tree_leaf())
    assert leaf == CT_GO_ROOT
    assert root_from_leaf_hashes([leaf]) == CT_GO_ROOT
    rng = CompactRange()
    rng.append(leaf)
    assert rng.root() == CT_GO_ROOT
    verify_inclusion(leaf, 0, 1, [], CT_GO_ROOT)


# --------------------------------------------------------------------------- #
# Sigstore Rekor inclusion proofs and checkpoints
# --------------------------------------------------------------------------- #

REKOR = _load(VECTORS / "sigstore" / "rekor_inclusion_checkpoints.json")


def _rekor_verifier(entry: dict[str, Any]) -> Verifier:
    key = entry["log_public_key"]
    name = urlparse(key["baseUrl"]).hostname
    assert name is not None
    spki = _b64(key["spki_der_b64"])
    if key["keyDetails"] == "PKIX_ED25519":
        raw = load_der_public_key(spki).public_bytes_raw()  # type: ignore[union-attr]
        return Ed25519Verifier(name, raw)
    assert key["keyDetails"] == "PKIX_ECDSA_P256_SHA_256"
    return ECDSAVerifier(name, spki)


def _rekor_id(entry: dict[str, Any]) -> str:
    return f"{entry['log_public_key']['keyDetails']}-size{entry['tree_size']}"


def test_rekor_vectors_cover_both_key_types() -> None:
    kinds = sorted(e["log_public_key"]["keyDetails"] for e in REKOR["entries"])
    assert kinds == ["PKIX_ECDSA_P256_SHA_256"] * 3 + ["PKIX_ED25519"] * 2


@pytest.mark.parametrize("entry", REKOR["entries"], ids=_rekor_id)
def test_rekor_inclusion_proof_verifies_against_checkpoint_root(entry: dict[str, Any]) -> None:
    leaf = leaf_hash(_b64(entry["canonicalized_body_b64"]))
    proof = _b64_list(entry["proof_b64"])
    root = _b64(entry["root_hash_b64"])
    index, size = entry["log_index_in_tree"], entry["tree_size"]
    verify_inclusion(leaf, index, size, proof, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, index, size, proof, bytes([root[0] ^ 1]) + root[1:])
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index - 1, size, proof, root)


@pytest.mark.parametrize("entry", REKOR["entries"], ids=_rekor_id)
def test_rekor_checkpoint_text_parses_to_the_proof_tree_head(entry: dict[str, Any]) -> None:
    text, signatures = parse_note(entry["checkpoint"])
    checkpoint = parse_checkpoint(text)
    assert checkpoint.size == entry["tree_size"]
    assert checkpoint.root_hash == _b64(entry["root_hash_b64"])
    assert checkpoint.to_text() == text
    assert signatures[0].key_id.to_bytes(4, "big") == _b64(entry["logId_keyId"])[:4]


@pytest.mark.parametrize("entry", REKOR["entries"], ids=_rekor_id)
def test_rekor_checkpoint_signature_verifies_with_the_log_key(entry: dict[str, Any]) -> None:
    """Both key forms verify: Ed25519 (Rekor v2) uses the C2SP key ID, ECDSA P-256 (Rekor v1)
    uses SHA-256(SPKI)[:4] and a DER signature; the key name is the log URL's host."""
    verifier = _rekor_verifier(entry)
    assert verifier.key_id.to_bytes(4, "big") == _b64(entry["logId_keyId"])[:4]
    checkpoint, signatures = open_checkpoint(entry["checkpoint"], [verifier])
    assert checkpoint.size == entry["tree_size"]
    assert [s.name for s in signatures] == [verifier.name]
    # Witness cosignatures on the Rekor v2 checkpoint are from unknown keys: ignored.
    assert len(parse_note(entry["checkpoint"])[1]) >= 1
    tampered = entry["checkpoint"].replace(str(entry["tree_size"]), str(entry["tree_size"] + 1), 1)
    with pytest.raises(InvalidSignatureError):
        open_note(tampered, [verifier])
