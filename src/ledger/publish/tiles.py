"""C2SP tlog-tiles geometry and a tile-backed tree: pure, with no I/O of its own.

A tile at level `L` holds up to 256 consecutive Merkle tree hashes of height `8 * L`; a full tile
is hashed (as a tree of its 256 hashes) into the tile above, a partial one never is. Tiles live
at `tile/<L>/<N>[.p/<W>]`, `<N>` in zero-padded 3-digit elements, all but the last prefixed `x`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ledger.integrity.merkle import HASH_SIZE, root_from_leaf_hashes, tree_root

WIDTH = 256
TILE_HEIGHT = 8
MAX_LEVEL = 63


class TileError(ValueError):
    """A tile is missing, of the wrong size, or does not hash into the tile above."""


def encode_index(index: int) -> str:
    """`1234067` -> `x001/x234/067` (tlog-tiles path encoding of a tile index)."""
    if index < 0:
        raise ValueError("a tile index is never negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index > 0:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int, index: int, width: int = WIDTH) -> str:
    """`tile/<L>/<N>` for a full tile, `tile/<L>/<N>.p/<W>` for a partial one."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"tile level {level} is not 0 to {MAX_LEVEL}")
    if not 1 <= width <= WIDTH:
        raise ValueError(f"tile width {width} is not 1 to {WIDTH}")
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


@dataclass(frozen=True, order=True)
class Tile:
    level: int
    index: int
    width: int

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    @property
    def first(self) -> int:
        """The index of its first hash among the hashes of height `8 * level`."""
        return self.index * WIDTH


def tiles_for(size: int) -> Iterator[Tile]:
    """Every tile of a tree of `size` leaves, level by level: the full ones, then the partial one
    where `floor(size / 256**L) mod 256` is not zero (empty tiles do not exist)."""
    level = 0
    hashes = size  # how many hashes of height 8 * level the tree has
    while hashes > 0:
        for index in range(hashes // WIDTH):
            yield Tile(level, index, WIDTH)
        if hashes % WIDTH:
            yield Tile(level, hashes // WIDTH, hashes % WIDTH)
        hashes //= WIDTH
        level += 1


def new_tiles(old_size: int, size: int) -> list[Tile]:
    """The tiles of `size` that a tree of `old_size` did not already have (same path)."""
    old = set(tiles_for(old_size)) if 0 < old_size <= size else set()
    return [tile for tile in tiles_for(size) if tile not in old]


def tile_for_size(level: int, index: int, size: int) -> Tile:
    """The tile `(level, index)` as a tree of `size` leaves has it (full or partial)."""
    hashes = size // WIDTH**level
    if (index + 1) * WIDTH <= hashes:
        return Tile(level, index, WIDTH)
    width = hashes - index * WIDTH
    if width <= 0:
        raise TileError(f"a tree of {size} leaves has no tile {index} at level {level}")
    return Tile(level, index, width)


def split(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


class TileTree:
    """The Merkle tree of `size` leaves read from its tiles (fetched once each, through `fetch`
    of a tile's path): any node of a complete subtree, and so any root or proof up to `size`."""

    def __init__(self, size: int, fetch: Callable[[str], bytes]) -> None:
        self.size = size
        self.fetch = fetch
        self.tiles: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.tiles:
            tile = tile_for_size(level, index, self.size)
            data = self.fetch(tile.path)
            if len(data) != tile.width * HASH_SIZE:
                raise TileError(
                    f"{tile.path} holds {len(data)} bytes, not {tile.width * HASH_SIZE}"
                )
            self.tiles[key] = data
        return self.tiles[key]

    def node(self, height: int, index: int) -> bytes:
        """MTH of leaves `[index * 2**height, (index + 1) * 2**height)` (within `size`)."""
        if (index + 1) << height > self.size:
            raise TileError(f"node {height}/{index} is not complete in a tree of {self.size}")
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile, offset = divmod(first, WIDTH)
        hashes = split(self.tile(level, tile))[offset : offset + (1 << rest)]
        return hashes[0] if rest == 0 else root_from_leaf_hashes(hashes)

    def leaf_hash(self, index: int) -> bytes:
        return self.node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of `size` leaves (by default all): any size up to this tree's."""
        size = self.size if size is None else size
        if not 0 < size <= self.size:
            raise TileError(f"size {size} is not 1 to {self.size}")
        return tree_root(size, self.node)

    def check_all(self) -> int:
        """Fetch every tile and check each full tile hashes to its entry in the tile above;
        the number of tiles checked."""
        count = 0
        for tile in tiles_for(self.size):
            data = self.tile(tile.level, tile.index)
            count += 1
            if tile.full:  # a full tile always has its entry in the tile above
                above = split(self.tile(tile.level + 1, tile.index // WIDTH))[tile.index % WIDTH]
                if root_from_leaf_hashes(split(data)) != above:
                    raise TileError(
                        f"{tile.path} does not hash to its entry in the tile above"
                        f" ({tile_path(tile.level + 1, tile.index // WIDTH)})"
                    )
        return count
