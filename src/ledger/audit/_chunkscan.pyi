"""The parallel audit's per-record work on one chunk, compiled (see _chunkscan.c)."""

def check(
    lines: list[bytes],
    places: bytes,
    leaves: list[bytes],
    first: int,
    origin_part: bytes,
    windows: dict[bytes, tuple[bytes, bytes]],
    keyring_stream: bytes,
    /,
) -> (
    tuple[
        dict[bytes, tuple[int, bytes | None, int]],
        dict[bytes, tuple[int, int]],
        dict[bytes, tuple[int, int]],
        list[int],
    ]
    | None
): ...
def prefixed(block: bytes, prefix: int, /) -> list[bytes] | None: ...
def pairs(level: list[bytes], /) -> list[bytes]: ...
