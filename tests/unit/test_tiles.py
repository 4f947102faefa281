"""C2SP tlog-tiles: paths and tile sets as the spec's own examples say, tile content against the
RFC 6962 reference tree, and proofs recomputed from tiles against RFC 9162 verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.integrity.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.publish.tiles import (
    Tile,
    TileError,
    TileTree,
    encode_index,
    new_tiles,
    split,
    tile_path,
    tiles_for,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "tlog"
CT8: dict[str, Any] = json.loads((VECTORS / "ct_reference_tree_8.json").read_text("utf-8"))


def test_index_encoding_is_the_spec_example() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert encode_index(999) == "999"
    assert encode_index(1000) == "x001/000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"


@pytest.mark.parametrize("bad", [(-1, 0, 256), (64, 0, 256), (0, 0, 0), (0, 0, 257)])
def test_paths_outside_the_spec_are_refused(bad: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="is not"):
        tile_path(*bad)


def test_tree_of_70000_has_the_spec_example_tiles() -> None:
    tiles = list(tiles_for(70_000))
    level0 = [t for t in tiles if t.level == 0]
    assert sum(t.full for t in level0) == 273
    assert [t for t in level0 if not t.full] == [Tile(0, 273, 112)]
    assert [t for t in tiles if t.level == 1] == [Tile(1, 0, 256), Tile(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [Tile(2, 0, 1)]
    assert len(tiles) == 273 + 1 + 1 + 1 + 1


def test_tree_of_256_is_a_full_tile_and_a_partial_of_width_one_above() -> None:
    assert list(tiles_for(256)) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert list(tiles_for(0)) == []
    assert [t.path for t in tiles_for(257)] == ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"]


def test_new_tiles_are_those_a_smaller_tree_did_not_have() -> None:
    assert new_tiles(0, 300) == list(tiles_for(300))
    assert new_tiles(300, 300) == []
    # 300 -> 600: tile 0 was full already; tile 1 becomes full; a partial 2; level 1 grows
    assert [t.path for t in new_tiles(300, 600)] == [
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
    ]


class Log:
    """A tile server in memory: the tiles a publisher writes for `leaves` leaves."""

    def __init__(self, leaves: list[bytes], size: int | None = None) -> None:
        self.hashes = [leaf_hash(d) for d in leaves]
        self.size = len(leaves) if size is None else size
        self.files: dict[str, bytes] = {}
        for tile in tiles_for(self.size):
            self.files[tile.path] = b"".join(self.level_hashes(tile))
        self.fetched: list[str] = []

    def level_hashes(self, tile: Tile) -> list[bytes]:
        span = 256**tile.level
        return [
            root_from_leaf_hashes(
                self.hashes[(tile.first + i) * span : (tile.first + i + 1) * span]
            )
            for i in range(tile.width)
        ]

    def fetch(self, path: str) -> bytes:
        self.fetched.append(path)
        if path not in self.files:
            raise TileError(f"no {path}")
        return self.files[path]


def test_tile_of_the_reference_tree_holds_its_leaf_hashes_and_gives_its_roots() -> None:
    leaves = [bytes.fromhex(h) for h in CT8["leaves_hex"]]
    log = Log(leaves)
    assert list(log.files) == ["tile/0/000.p/8"]
    level0 = [bytes.fromhex(h) for h in CT8["node_hashes_hex_by_level"][0]]
    assert split(log.files["tile/0/000.p/8"]) == level0
    tree = TileTree(8, log.fetch)
    for size in range(1, 9):
        assert tree.root(size).hex() == CT8["roots_hex_by_size"][str(size)]
    for case in CT8["inclusion_proofs"]:
        proof = inclusion_proof(case["leaf_index"], case["tree_size"], tree.node)
        assert [h.hex() for h in proof] == case["proof_hex"]
    for case in CT8["consistency_proofs"]:
        proof = consistency_proof(case["size1"], case["size2"], tree.node)
        assert [h.hex() for h in proof] == case["proof_hex"]


@pytest.mark.parametrize("size", [1, 255, 256, 257, 511, 512, 70_000])
def test_roots_and_proofs_from_tiles_match_the_tree(size: int) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    log = Log(leaves)
    compact = CompactRange()
    compact.extend(log.hashes)
    tree = TileTree(size, log.fetch)
    assert tree.root() == compact.root()
    assert tree.check_all() == len(log.files)
    for index in {0, size // 2, size - 1}:
        proof = inclusion_proof(index, size, tree.node)
        verify_inclusion(log.hashes[index], index, size, proof, compact.root())
    older = max(1, size // 3)
    proof = consistency_proof(older, size, tree.node)
    verify_consistency(older, size, proof, root_from_leaf_hashes(log.hashes[:older]), tree.root())


def test_a_tile_of_the_wrong_size_is_refused() -> None:
    log = Log([bytes([i]) for i in range(10)])
    log.files["tile/0/000.p/10"] = log.files["tile/0/000.p/10"][:-1]
    with pytest.raises(TileError, match="holds 319 bytes"):
        TileTree(10, log.fetch).root()


def test_a_changed_full_tile_no_longer_hashes_into_the_tile_above() -> None:
    log = Log([i.to_bytes(2, "big") for i in range(600)])
    tampered = bytearray(log.files["tile/0/001"])
    tampered[5] ^= 1
    log.files["tile/0/001"] = bytes(tampered)
    with pytest.raises(TileError, match="tile/0/001 does not hash"):
        TileTree(600, log.fetch).check_all()


def test_partial_tiles_are_fetched_only_as_the_checkpoint_size_requires() -> None:
    log = Log([i.to_bytes(2, "big") for i in range(300)])
    tree = TileTree(300, log.fetch)
    tree.root()
    assert set(log.fetched) <= {"tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"}
    with pytest.raises(TileError):
        tree.node(0, 300)  # beyond the tree
