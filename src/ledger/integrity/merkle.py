"""RFC 9162 (Certificate Transparency v2) Merkle hash trees, section 2.1.

Hashing (section 2.1.1), with SHA-256 and ``||`` for concatenation::

    MTH({})        = SHA-256()                                  -> EMPTY_ROOT
    MTH({d(0)})    = SHA-256(0x00 || d(0))                      -> leaf_hash
    MTH(D[n])      = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  -> node_hash
                     where k is the largest power of two smaller than n

Vocabulary used throughout this module:

* A *perfect subtree* (or *node*) ``(level, index)`` is the root of the complete
  binary tree over the ``2**level`` leaves ``[index << level, (index + 1) << level)``.
  Level 0 holds the leaf hashes. A node exists in a tree of ``size`` leaves once
  ``(index + 1) << level <= size``; it never changes afterwards, which is what
  makes it safe to store.
* A ``GetNode`` callback ``get_node(level, index) -> bytes`` returns the hash of
  such a stored perfect subtree. Proof builders here only ever ask for nodes
  that are complete in the tree they prove against; the incomplete right edge
  of a tree is recomputed from complete nodes, never stored.
* The *peaks* of a tree of ``size`` leaves are the perfect subtrees given by
  the binary expansion of ``size`` (one per set bit, largest/leftmost first).
  Their hashes are all a :class:`CompactRange` keeps in memory.

Verifiers follow RFC 9162 sections 2.1.3.2 (inclusion) and 2.1.4.2
(consistency). They return ``None`` on success and raise a
:class:`ProofError` (or its subclass :class:`RootMismatchError`) on failure;
they never return a boolean.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "GetNode",
    "MerkleError",
    "NodeId",
    "ProofError",
    "RootMismatchError",
    "StoredNode",
    "TreeError",
    "consistency_proof",
    "consistency_proof_node_ids",
    "consistency_proof_size",
    "hashes_from_node_ids",
    "inclusion_proof",
    "inclusion_proof_node_ids",
    "inclusion_proof_size",
    "leaf_hash",
    "node_hash",
    "peak_ids",
    "range_node_ids",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "root_from_peaks",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH of the empty tree: SHA-256 of the empty string (RFC 9162 section 2.1.1)."""

NodeId = tuple[int, int]
"""``(level, index)`` of a perfect subtree; level 0 is the leaf level."""

GetNode = Callable[[int, int], bytes]
"""Callback returning the stored hash of the perfect subtree ``(level, index)``."""


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


class MerkleError(Exception):
    """Base class of every error raised by this module."""


class TreeError(MerkleError, ValueError):
    """A precondition of a tree-building or proof-building function was violated.

    Examples: a leaf hash that is not 32 bytes, an index outside the tree, peaks
    that do not match the tree size, a ``get_node`` callback returning garbage.
    """


class ProofError(MerkleError):
    """A proof failed verification, or its inputs are malformed.

    Raised for structural problems (wrong number of hashes, hashes of the wrong
    length, impossible index/size combinations). The subclass
    :class:`RootMismatchError` is raised when the proof is well formed but
    recomputes a different root.
    """


class RootMismatchError(ProofError):
    """A recomputed root differs from the root it had to match.

    ``expected`` is the root supplied by the caller (e.g. from a checkpoint),
    ``computed`` is the root the proof actually leads to.
    """

    def __init__(self, expected: bytes, computed: bytes, what: str = "root") -> None:
        self.expected = bytes(expected)
        self.computed = bytes(computed)
        self.what = what
        super().__init__(
            f"{what} mismatch: computed {self.computed.hex()}, expected {self.expected.hex()}"
        )


# --------------------------------------------------------------------------- #
# Hashing (RFC 9162 section 2.1.1)
# --------------------------------------------------------------------------- #


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash ``SHA-256(0x00 || data)`` of one log entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """Largest power of two strictly smaller than ``n``. Requires ``n >= 2``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str, error: type[MerkleError]) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} has length {len(value)}, want {HASH_SIZE}")


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return MTH over the given leaf hashes, straight from RFC 9162 section 2.1.1.

    This is the naive recursive definition (O(n) hashing, recursion depth
    O(log n)), kept as the reference against which the incremental code is
    tested. Requires every element to be a 32-byte leaf hash (i.e. already
    ``leaf_hash(entry)``); returns :data:`EMPTY_ROOT` for an empty sequence.
    """
    for i, h in enumerate(hashes):
        _check_hash(h, f"leaf hash {i}", TreeError)

    def mth(begin: int, end: int) -> bytes:
        n = end - begin
        if n == 1:
            return hashes[begin]
        k = _split_point(n)
        return node_hash(mth(begin, begin + k), mth(begin + k, end))

    if not hashes:
        return EMPTY_ROOT
    return mth(0, len(hashes))


# --------------------------------------------------------------------------- #
# Tree geometry: which perfect subtrees make up a range / a proof
# --------------------------------------------------------------------------- #


def range_node_ids(begin: int, end: int) -> list[NodeId]:
    """Decompose the leaf range ``[begin, end)`` into maximal perfect subtrees.

    Requires ``0 <= begin <= end``. Returns the nodes left to right; at most
    ``2 * log2(end - begin) + 2`` of them. When ``begin`` is a multiple of a
    power of two that is ``>= end - begin`` (true for ``begin == 0`` and for
    every right-edge subtree used in proofs), the range is exactly the leaves
    of one RFC 9162 subtree and its hash is the right-to-left fold of the
    returned nodes' hashes (see :func:`root_from_peaks`).
    """
    if begin < 0 or end < begin:
        raise TreeError(f"invalid leaf range [{begin}, {end})")
    ids: list[NodeId] = []
    while begin < end:
        # Largest aligned block starting at ``begin`` that still fits.
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        ids.append((level, begin >> level))
        begin += 1 << level
    return ids


def peak_ids(size: int) -> list[NodeId]:
    """Perfect subtrees whose hashes determine the root of a tree of ``size`` leaves.

    Requires ``size >= 0``. One node per set bit of ``size``, largest (leftmost)
    first; e.g. ``peak_ids(6) == [(2, 0), (1, 2)]``.
    """
    if size < 0:
        raise TreeError(f"tree size {size} is negative")
    return range_node_ids(0, size)


def root_from_peaks(peaks: Sequence[bytes]) -> bytes:
    """Fold peak hashes (leftmost first) into the tree root, right to left.

    ``root = node_hash(p0, node_hash(p1, ... node_hash(p[k-2], p[k-1])))``;
    returns :data:`EMPTY_ROOT` for no peaks. Requires 32-byte hashes.
    """
    if not peaks:
        return EMPTY_ROOT
    for i, p in enumerate(peaks):
        _check_hash(p, f"peak {i}", TreeError)
    acc = peaks[-1]
    for p in reversed(peaks[:-1]):
        acc = node_hash(p, acc)
    return acc


def _path_node_ids(level: int, index: int, size: int) -> list[tuple[NodeId, ...]]:
    """Audit path of the complete node ``(level, index)`` in a tree of ``size`` leaves.

    Requires ``(index + 1) << level <= size``. Returns one entry per proof
    hash, bottom-up (the order of RFC 9162 ``PATH``). Each entry is a tuple of
    perfect-subtree ids; the hash of that proof element is the right-to-left
    fold of their hashes. Only a right sibling on the tree's incomplete right
    edge can need more than one node, and at most one entry per path does.
    """
    last = (size - 1) >> level  # index of the rightmost (maybe partial) node at `level`
    inner = (index ^ last).bit_length()  # levels below the point where paths diverge
    ids: list[tuple[NodeId, ...]] = []
    for i in range(inner):
        lvl = level + i
        node = index >> i
        sibling = node ^ 1
        if sibling < node:  # left sibling: always complete
            ids.append(((lvl, sibling),))
        else:  # right sibling: complete unless it is the partial right edge
            begin = sibling << lvl
            end = min(begin + (1 << lvl), size)
            ids.append(tuple(range_node_ids(begin, end)))
    # Above the divergence point the node is the rightmost at its level, so
    # only left siblings exist (one per set bit of the shifted index).
    node = index >> inner
    lvl = level + inner
    while node:
        if node & 1:
            ids.append(((lvl, node - 1),))
        node >>= 1
        lvl += 1
    return ids


def inclusion_proof_node_ids(index: int, size: int) -> list[tuple[NodeId, ...]]:
    """Nodes read to build the inclusion proof of leaf ``index`` in a tree of ``size``.

    Requires ``0 <= index < size``. Returns, bottom-up, one tuple per proof hash
    (see :func:`_path_node_ids`): for each level below the point where the paths
    to ``index`` and ``size - 1`` diverge, the sibling of the leaf's ancestor
    (if that sibling is the partial right edge, the perfect subtrees of
    ``range_node_ids`` covering it instead); above it, the left sibling at each
    level where one exists. Total reads are at most ``2 * ceil(log2(size))``.
    """
    if not 0 <= index < size:
        raise TreeError(f"leaf index {index} is not in [0, {size})")
    return _path_node_ids(0, index, size)


def consistency_proof_node_ids(size1: int, size2: int) -> list[tuple[NodeId, ...]]:
    """Nodes read to build the consistency proof from ``size1`` to ``size2`` leaves.

    Requires ``0 < size1 <= size2``; the proof is empty when ``size1 == size2``.
    Let ``k`` be the number of trailing zero bits of ``size1``: the node
    ``(k, (size1 - 1) >> k)`` is the last peak of the old tree. The proof is
    that node (omitted when ``size1`` is a power of two, because the verifier
    already holds it as ``root1``) followed by its audit path in the new tree.
    This is the same list of hashes as RFC 9162 ``PROOF(size1, D[size2])``.
    """
    if not 0 < size1 <= size2:
        raise TreeError(f"consistency proof needs 0 < size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    ids = _path_node_ids(level, index, size2)
    if index:
        ids.insert(0, ((level, index),))
    return ids


def hashes_from_node_ids(ids: Iterable[tuple[NodeId, ...]], get_node: GetNode) -> list[bytes]:
    """Resolve a proof node plan into proof hashes by calling ``get_node``.

    Calls ``get_node`` exactly once per node id in ``ids``, in order. Each
    tuple's hashes are folded right to left into one proof element.
    """
    out: list[bytes] = []
    for group in ids:
        hashes: list[bytes] = []
        for level, index in group:
            h = get_node(level, index)
            _check_hash(h, f"get_node({level}, {index})", TreeError)
            hashes.append(h)
        out.append(root_from_peaks(hashes))
    return out


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 inclusion proof (audit path) for leaf ``index``.

    Requires ``0 <= index < size`` and that ``get_node`` returns the hash of
    every perfect subtree complete within ``size`` leaves. Reads exactly the
    nodes listed by :func:`inclusion_proof_node_ids` (O(log size)).
    """
    return hashes_from_node_ids(inclusion_proof_node_ids(index, size), get_node)


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes ``size1`` and ``size2``.

    Requires ``0 < size1 <= size2`` and that ``get_node`` returns the hash of
    every perfect subtree complete within ``size2`` leaves. Reads exactly the
    nodes listed by :func:`consistency_proof_node_ids` (O(log size2)).
    """
    return hashes_from_node_ids(consistency_proof_node_ids(size1, size2), get_node)


def tree_root(size: int, get_node: GetNode) -> bytes:
    """Return the root of the tree of ``size`` leaves from stored perfect subtrees.

    Requires ``size >= 0``. Reads exactly the nodes of :func:`peak_ids`
    (``popcount(size)`` reads).
    """
    return hashes_from_node_ids([tuple(peak_ids(size))], get_node)[0]


# --------------------------------------------------------------------------- #
# Compact range: incremental appends in O(log n) memory
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class StoredNode:
    """A perfect subtree hash that became complete and may be persisted.

    Unpacks like the tuple ``(level, index, hash)``.
    """

    level: int
    index: int
    hash: bytes

    def __iter__(self) -> Iterator[int | bytes]:
        """Yield ``level``, ``index`` and ``hash`` (for tuple unpacking)."""
        return iter((self.level, self.index, self.hash))


class CompactRange:
    """Append-only Merkle tree state holding only the peak hashes.

    ``append`` returns every perfect subtree completed by the new leaf (the
    leaf itself at level 0 plus each merged parent), so a log sequencer can
    store exactly the nodes that :func:`inclusion_proof`,
    :func:`consistency_proof` and :func:`tree_root` later read through
    ``get_node``. Memory is ``popcount(size)`` hashes.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self) -> None:
        """Create the state of the empty tree."""
        self._size = 0
        self._peaks: list[bytes] = []

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> CompactRange:
        """Restore the state of a tree of ``size`` leaves from its peak hashes.

        Requires ``size >= 0`` and ``len(peaks) == popcount(size)``, ordered as
        :func:`peak_ids` (largest subtree first), each 32 bytes.
        """
        want = len(peak_ids(size))
        if len(peaks) != want:
            raise TreeError(f"tree of size {size} has {want} peaks, got {len(peaks)}")
        for i, p in enumerate(peaks):
            _check_hash(p, f"peak {i}", TreeError)
        rng = cls()
        rng._size = size
        rng._peaks = [bytes(p) for p in peaks]
        return rng

    @classmethod
    def from_store(cls, size: int, get_node: GetNode) -> CompactRange:
        """Restore the state of a tree of ``size`` leaves by reading its peaks.

        Calls ``get_node`` once for each id in :func:`peak_ids` ``(size)``.
        """
        peaks = [get_node(level, index) for level, index in peak_ids(size)]
        return cls.from_peaks(size, peaks)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """Hashes of the nodes in :func:`peak_ids` ``(size)``, largest first."""
        return tuple(self._peaks)

    def append(self, leaf_hash: bytes) -> list[StoredNode]:
        """Append one leaf hash; return the perfect subtrees it completed.

        Requires ``len(leaf_hash) == 32``: the output of :func:`leaf_hash`, not the raw entry.
        The returned list starts with ``(0, old_size, leaf_hash)`` and continues with
        one parent per trailing one-bit of ``old_size``, bottom-up.
        """
        _check_hash(leaf_hash, "leaf hash", TreeError)
        return [StoredNode(*row) for row in self.append_rows([bytes(leaf_hash)])]

    def append_rows(self, leaf_hashes: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """`append` of several leaf hashes (32 bytes each, as :func:`leaf_hash` makes them; not
        checked here), in one tight loop for a batch of thousands: the perfect subtrees they
        completed as plain (level, index, hash) rows, in order."""
        sha256 = hashlib.sha256
        peaks, size = self._peaks, self._size
        rows: list[tuple[int, int, bytes]] = []
        add = rows.append
        for h in leaf_hashes:
            index, level = size, 0
            add((0, index, h))
            while index & 1:
                h = sha256(_NODE_PREFIX + peaks.pop() + h).digest()
                index >>= 1
                level += 1
                add((level, index, h))
            peaks.append(h)
            size += 1
        self._size = size
        return rows

    def extend(self, leaves: Iterable[bytes]) -> list[StoredNode]:
        """Append several leaf hashes; return all subtrees they completed, in order."""
        out: list[StoredNode] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out

    def root(self) -> bytes:
        """Root hash (MTH) of the current tree; :data:`EMPTY_ROOT` when empty."""
        return root_from_peaks(self._peaks)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


# --------------------------------------------------------------------------- #
# Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)
# --------------------------------------------------------------------------- #


def _decompose_inclusion(index: int, size: int) -> tuple[int, int]:
    """Split the audit path of ``index`` in ``size`` into (inner, border) lengths.

    ``inner`` counts levels below the divergence of the paths to ``index`` and
    ``size - 1``; ``border`` counts left siblings above it. Requires
    ``0 <= index < size``.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def inclusion_proof_size(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of ``index``. Requires ``0 <= index < size``."""
    if not 0 <= index < size:
        raise TreeError(f"leaf index {index} is not in [0, {size})")
    inner, border = _decompose_inclusion(index, size)
    return inner + border


def consistency_proof_size(size1: int, size2: int) -> int:
    """Number of hashes in the consistency proof. Requires ``0 < size1 <= size2``."""
    if not 0 < size1 <= size2:
        raise TreeError(f"consistency proof needs 0 < size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        return 0
    inner, border = _decompose_inclusion(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]", ProofError)


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Recompute the root implied by an inclusion proof (RFC 9162 section 2.1.3.2).

    Requires ``0 <= index < size``, a 32-byte ``leaf_hash`` and exactly
    :func:`inclusion_proof_size` 32-byte proof hashes; raises
    :class:`ProofError` otherwise. The result still has to be compared with a
    trusted root -- use :func:`verify_inclusion` for that.
    """
    if index < 0:
        raise ProofError(f"leaf index {index} is negative")
    if index >= size:
        raise ProofError(f"leaf index {index} is beyond tree size {size}")
    _check_hash(leaf_hash, "leaf hash", ProofError)
    want = inclusion_proof_size(index, size)
    if len(proof) != want:
        raise ProofError(f"wrong proof size {len(proof)}, want {want}")
    _check_proof_hashes(proof)

    # RFC 9162 section 2.1.3.2, steps 2-5.
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # pragma: no cover - excluded by the proof size check above
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # pragma: no cover - excluded by the proof size check above
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify that ``leaf_hash`` is the leaf hash at ``index`` in the tree ``(size, root)``.

    Requires ``0 <= index < size``. Returns ``None`` on success; raises
    :class:`ProofError` for a malformed proof and :class:`RootMismatchError`
    (carrying ``expected=root`` and ``computed``) when it leads elsewhere.
    """
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise RootMismatchError(expected=root, computed=computed)


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Check a consistency proof against ``root1`` and return the implied ``root2``.

    Implements RFC 9162 section 2.1.4.2. Requires ``0 <= size1 <= size2``;
    ``size1 == size2`` needs an empty proof (``root1`` is returned unchecked
    apart from: for size 0 it must be :data:`EMPTY_ROOT`); ``size1 == 0 < size2`` is rejected
    because no consistency proof exists from the empty tree (RFC 9162 only
    defines proofs for ``0 < first``). Raises :class:`ProofError` for malformed
    input and :class:`RootMismatchError` if the proof does not lead to
    ``root1``.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"tree sizes must be non-negative, got {size1}, {size2}")
    if size2 < size1:
        raise ProofError(f"size2 ({size2}) < size1 ({size1})")
    if size1 == size2:
        if proof:
            raise ProofError(f"size1 == size2 == {size1} but proof has {len(proof)} hashes")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise RootMismatchError(expected=root1, computed=EMPTY_ROOT, what="empty tree root")
        return root1
    if size1 == 0:
        raise ProofError("consistency proof from the empty tree (size1 == 0) is meaningless")
    want = consistency_proof_size(size1, size2)
    if len(proof) != want:
        raise ProofError(f"wrong proof size {len(proof)}, want {want}")
    _check_proof_hashes(proof)

    # RFC 9162 section 2.1.4.2, steps 2-7.
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: first is an exact power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # pragma: no cover - excluded by the proof size check above
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # pragma: no cover - excluded by the proof size check above
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise RootMismatchError(expected=root1, computed=fr, what="first root")
    return sr


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify that tree ``(size2, root2)`` is an append-only extension of ``(size1, root1)``.

    Requires ``0 < size1 <= size2`` (or ``size1 == size2 == 0`` with both roots
    equal to :data:`EMPTY_ROOT`). Returns ``None`` on success; raises
    :class:`ProofError` for malformed input and :class:`RootMismatchError`
    when either root does not match what the proof implies.
    """
    computed = root_from_consistency_proof(size1, size2, proof, root1)
    if computed != root2:
        raise RootMismatchError(expected=root2, computed=computed, what="second root")
