"""The audit's fast path: one regular-expression match accepts a record of the exact canonical
shape, of this ledger's origin, signed by a records key valid when it was made.

A record it accepts is one that `integrity.scan.scan` reads to the same fields and that the
auditor's full checks of the envelope would pass; it accepts no more (a stricter shape is fine:
whatever it does not accept goes through the full checks, which say what is wrong). It never
builds an envelope, so most of the per-record work is the C code of the match.
"""

from __future__ import annotations

import re

_HEAD = b'{"format":1,"kid":"'
_PREV = b',"prev":'
# The envelope's end, from its last `,"prev":` (nothing after it can hold one: no value in it
# holds a quote). Groups: prev digest (None for null), recorded_at, stream, type, version.
_TAIL = re.compile(
    rb',"prev":(?:null|"([^"]{64})"),"recorded_at":"([^"]*)","sig":"[^"]*"'
    rb',"stream":"([^"]*)","type":"([^"]*)","version":([1-9][0-9]{0,14})\}'
)

Fields = tuple[bytes, bytes | None, bytes, bytes, bytes]


class FastForm:
    """`fields(data)` is (kid, prev, stream, version digits, type) for a record the fast path
    accepts, else None."""

    def __init__(self, origin: bytes, windows: dict[bytes, tuple[bytes, bytes]]) -> None:
        """`windows`: each records key's kid to the [from, until) its records may be made in."""
        self.enabled = b'"' not in origin and b"\\" not in origin
        self.origin_part = b'","origin":"' + origin + b'","payload":'
        self.head_end = 35 + len(self.origin_part)
        self.windows = windows

    def fields(self, data: bytes) -> Fields | None:
        """Call only when `enabled` (an origin with a quote or backslash has no fast path)."""
        if data[:19] != _HEAD or data[35 : self.head_end] != self.origin_part:
            return None
        found = _TAIL.fullmatch(data, data.rfind(_PREV))
        if found is None:
            return None
        prev, at, stream, type_, version = found.groups()
        kid = data[19:35]
        window = self.windows.get(kid)
        if window is None or not window[0] <= at < window[1]:
            return None
        return kid, prev, stream, version, type_
