"""Bitstring Status List v1.0: a compressed bitstring, one bit per credential.

Index 0 is the most significant bit of the first byte. The `encodedList` is the multibase
base64url (no padding) of the GZIP-compressed bitstring; lists hold at least 131,072 bits so a
set bit does not single out its holder.
"""

from __future__ import annotations

import gzip

from ledger.credentials.multibase import MultibaseError, decode, encode

MIN_BITS = 131_072


class StatusListError(ValueError):
    pass


class Bitstring:
    def __init__(self, size: int = MIN_BITS, data: bytes | None = None) -> None:
        if size < MIN_BITS or size % 8:
            raise StatusListError(f"a status list has a multiple of 8 and at least {MIN_BITS} bits")
        self.size = size
        self.bits = bytearray(data if data is not None else size // 8)
        if len(self.bits) * 8 != size:
            raise StatusListError("bitstring length does not match its size")

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise StatusListError(f"index {index} is outside the list of {self.size} entries")

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self.bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool) -> None:
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self.bits[index // 8] |= mask
        else:
            self.bits[index // 8] &= ~mask & 0xFF

    def encode(self) -> str:
        return encode(gzip.compress(bytes(self.bits), mtime=0), "u")

    @classmethod
    def decode(cls, encoded: str) -> Bitstring:
        try:
            raw = gzip.decompress(decode(encoded))
        except (MultibaseError, OSError, EOFError) as exc:
            raise StatusListError(
                f"encodedList is not a gzip bitstring in base64url: {exc}"
            ) from exc
        return cls(len(raw) * 8, raw)
