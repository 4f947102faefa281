"""Property tests: the O(log n) get_node/CompactRange proof path agrees with the
RFC 9162 recursive definitions, and verification rejects every tampering.

The reference implementation below is written straight from RFC 9162
section 2.1 (MTH, PATH, PROOF/SUBPROOF) over a fixed list of 2,000 leaves;
MTH is memoised on the leaf range only to keep the test fast. The node store
is an in-memory dict filled from ``CompactRange.append`` once for all 2,000
leaves; every proof for a smaller tree reads it through a ``get_node`` that
fails on any node not complete within that tree's size, so the tests also
check the documented "only complete perfect subtrees are read" contract.
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.merkle import (
    CompactRange,
    ProofError,
    RootMismatchError,
    consistency_proof,
    consistency_proof_node_ids,
    inclusion_proof,
    inclusion_proof_node_ids,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 2_000
LEAVES: tuple[bytes, ...] = tuple(leaf_hash(b"entry %d" % i) for i in range(MAX_SIZE))

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


# --------------------------------------------------------------------------- #
# Naive reference, RFC 9162 section 2.1
# --------------------------------------------------------------------------- #


def _k(n: int) -> int:
    """Largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_mth(begin: int, end: int) -> bytes:
    """MTH(D[begin:end]) by the recursive definition (section 2.1.1)."""
    n = end - begin
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return LEAVES[begin]
    k = _k(n)
    return node_hash(ref_mth(begin, begin + k), ref_mth(begin + k, end))


def ref_path(m: int, begin: int, end: int) -> list[bytes]:
    """PATH(m, D[begin:end]) (section 2.1.3.1), m relative to begin."""
    n = end - begin
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, begin, begin + k), ref_mth(begin + k, end)]
    return [*ref_path(m - k, begin + k, end), ref_mth(begin, begin + k)]


def ref_subproof(m: int, begin: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[begin:end], b) (section 2.1.4.1)."""
    n = end - begin
    if m == n:
        return [] if b else [ref_mth(begin, end)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, begin, begin + k, b), ref_mth(begin + k, end)]
    return [*ref_subproof(m - k, begin + k, end, False), ref_mth(begin, begin + k)]


def ref_proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
    return ref_subproof(m, 0, n, True)


# --------------------------------------------------------------------------- #
# Node store built with CompactRange
# --------------------------------------------------------------------------- #


def _build_store() -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
    store: dict[tuple[int, int], bytes] = {}
    roots: list[bytes] = []
    rng = CompactRange()
    roots.append(rng.root())
    for leaf in LEAVES:
        for node in rng.append(leaf):
            key = (node.level, node.index)
            assert key not in store, f"node {key} reported twice"
            store[key] = node.hash
        roots.append(rng.root())
    return store, roots


STORE, ROOTS = _build_store()


class CountingReader:
    """get_node for a tree of ``size`` leaves that records reads and refuses
    nodes that are not complete perfect subtrees of that tree."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reads: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        assert level >= 0
        assert index >= 0
        assert (index + 1) << level <= self.size, f"({level}, {index}) incomplete at {self.size}"
        self.reads.append((level, index))
        return STORE[(level, index)]


def _flip_bit(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _max_reads(size: int) -> int:
    return 2 * size.bit_length() + 1


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=MAX_SIZE))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return size, index


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(min_value=1, max_value=MAX_SIZE))
    size1 = draw(st.integers(min_value=1, max_value=size2))
    return size1, size2


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=MAX_SIZE))
def test_compact_range_and_stored_peaks_give_the_recursive_mth_root(size: int) -> None:
    reader = CountingReader(size)
    assert ROOTS[size] == ref_mth(0, size)
    assert tree_root(size, reader) == ref_mth(0, size)
    assert len(reader.reads) == size.bit_count()


@PROPERTY_SETTINGS
@given(sizes=two_sizes())
def test_compact_range_restored_from_store_continues_identically(sizes: tuple[int, int]) -> None:
    start, end = sizes
    rng = CompactRange.from_store(start, CountingReader(start))
    for i in range(start, end):
        for node in rng.append(LEAVES[i]):
            assert STORE[(node.level, node.index)] == node.hash
    assert rng.size == end
    assert rng.root() == ROOTS[end]


@PROPERTY_SETTINGS
@given(sizes=two_sizes())
def test_rows_appended_in_one_batch_are_the_nodes_appended_one_by_one(
    sizes: tuple[int, int],
) -> None:
    start, end = sizes
    rng = CompactRange.from_store(start, CountingReader(start))
    rows = rng.append_rows(LEAVES[start:end])
    one_by_one = CompactRange.from_store(start, CountingReader(start))
    assert rows == [tuple(n) for i in range(start, end) for n in one_by_one.append(LEAVES[i])]
    assert all(STORE[(level, index)] == node for level, index, node in rows)
    assert (rng.size, rng.root()) == (end, ROOTS[end])


@PROPERTY_SETTINGS
@given(case=size_and_index())
def test_inclusion_proof_from_stored_nodes_equals_rfc_path_and_verifies(
    case: tuple[int, int],
) -> None:
    size, index = case
    reader = CountingReader(size)
    proof = inclusion_proof(index, size, reader)
    assert proof == ref_path(index, 0, size)
    assert reader.reads == [nid for group in inclusion_proof_node_ids(index, size) for nid in group]
    assert len(reader.reads) <= _max_reads(size)
    verify_inclusion(LEAVES[index], index, size, proof, ref_mth(0, size))


@PROPERTY_SETTINGS
@given(case=size_and_index(), data=st.data())
def test_inclusion_verification_fails_on_any_single_bit_change(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    proof = inclusion_proof(index, size, CountingReader(size))
    root = ROOTS[size]
    leaf = LEAVES[index]
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, index, size, proof, _flip_bit(root, bit))
    with pytest.raises(RootMismatchError):
        verify_inclusion(_flip_bit(leaf, bit), index, size, proof, root)
    if proof:
        pos = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        bad = list(proof)
        bad[pos] = _flip_bit(bad[pos], bit)
        with pytest.raises(RootMismatchError):
            verify_inclusion(leaf, index, size, bad, root)


@PROPERTY_SETTINGS
@given(case=size_and_index(), data=st.data())
def test_inclusion_verification_fails_for_another_index_or_tree_size(
    case: tuple[int, int], data: st.DataObject
) -> None:
    """A changed index (same tree) always fails. A changed size is checked against
    the root of a tree of that size: the audit path alone does not commit to the
    size (see test_inclusion_proof_alone_does_not_bind_the_tree_size)."""
    size, index = case
    proof = inclusion_proof(index, size, CountingReader(size))
    leaf = LEAVES[index]
    other_index = data.draw(st.integers(min_value=0, max_value=MAX_SIZE), label="other_index")
    if other_index != index:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, other_index, size, proof, ROOTS[size])
    other_size = data.draw(st.integers(min_value=1, max_value=MAX_SIZE), label="other_size")
    if other_size != size:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, other_size, proof, ROOTS[other_size])


def test_inclusion_proof_alone_does_not_bind_the_tree_size() -> None:
    # Leaf 1's audit path has the same shape in trees of 3 and 4 leaves, so the
    # size-3 proof "verifies" for size 4 against the size-3 root. Only a signed
    # (size, root) pair -- the checkpoint -- binds the size.
    proof = inclusion_proof(1, 3, CountingReader(3))
    verify_inclusion(LEAVES[1], 1, 4, proof, ROOTS[3])
    with pytest.raises(RootMismatchError):
        verify_inclusion(LEAVES[1], 1, 4, proof, ROOTS[4])


@PROPERTY_SETTINGS
@given(sizes=two_sizes())
def test_consistency_proof_from_stored_nodes_equals_rfc_proof_and_verifies(
    sizes: tuple[int, int],
) -> None:
    size1, size2 = sizes
    reader = CountingReader(size2)
    proof = consistency_proof(size1, size2, reader)
    assert proof == ref_proof(size1, size2)
    assert reader.reads == [
        nid for group in consistency_proof_node_ids(size1, size2) for nid in group
    ]
    assert len(reader.reads) <= _max_reads(size2)
    verify_consistency(size1, size2, proof, ref_mth(0, size1), ref_mth(0, size2))


@PROPERTY_SETTINGS
@given(sizes=two_sizes(), data=st.data())
def test_consistency_verification_fails_on_any_single_bit_change(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = sizes
    proof = consistency_proof(size1, size2, CountingReader(size2))
    root1, root2 = ROOTS[size1], ROOTS[size2]
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    with pytest.raises(RootMismatchError):
        verify_consistency(size1, size2, proof, _flip_bit(root1, bit), root2)
    with pytest.raises(RootMismatchError):
        verify_consistency(size1, size2, proof, root1, _flip_bit(root2, bit))
    if proof:
        pos = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="pos")
        bad = list(proof)
        bad[pos] = _flip_bit(bad[pos], bit)
        with pytest.raises(RootMismatchError):
            verify_consistency(size1, size2, bad, root1, root2)


@PROPERTY_SETTINGS
@given(sizes=two_sizes(), data=st.data())
def test_consistency_verification_fails_for_other_tree_sizes(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    """Each changed size is paired with the true root of that size, i.e. the
    claim "this proof links these two real tree heads" must be rejected."""
    size1, size2 = sizes
    proof = consistency_proof(size1, size2, CountingReader(size2))
    other1 = data.draw(st.integers(min_value=0, max_value=MAX_SIZE), label="other_size1")
    if other1 != size1:
        with pytest.raises(ProofError):
            verify_consistency(other1, size2, proof, ROOTS[other1], ROOTS[size2])
    other2 = data.draw(st.integers(min_value=0, max_value=MAX_SIZE), label="other_size2")
    if other2 != size2:
        with pytest.raises(ProofError):
            verify_consistency(size1, other2, proof, ROOTS[size1], ROOTS[other2])


def test_reference_implementation_matches_exhaustively_for_small_trees() -> None:
    for size in range(1, 65):
        for index in range(size):
            assert inclusion_proof(index, size, CountingReader(size)) == ref_path(index, 0, size)
        for size1 in range(1, size + 1):
            assert consistency_proof(size1, size, CountingReader(size)) == ref_proof(size1, size)
