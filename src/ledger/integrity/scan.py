"""Fast reading of a record's envelope from its canonical bytes, without parsing the payload.

Canonical records put their members in a fixed order, so the envelope sits at the two ends of
the bytes: `{"format":1,"kid":..,"origin":..,"payload":` at the start and
`,"prev":..,"recorded_at":..,"sig":..,"stream":..,"type":..,"version":N}` at the end (the last
`,"prev":` in the bytes is the envelope's: nothing after it can contain one). An audit of
millions of records reads these ends only; the payload is committed byte for byte by the record
digests and the newest signature of each stream. Bytes that do not have this shape are handed to
the full parser (`record.open_record`), which says precisely what is wrong.
"""

from __future__ import annotations

from typing import NamedTuple

_HEAD = b'{"format":1,"kid":"'
_ORIGIN = b'","origin":"'
_PAYLOAD = b'","payload":'
_PREV = b',"prev":'


class Envelope(NamedTuple):
    kid: bytes
    origin: bytes
    prev: bytes | None
    recorded_at: bytes
    stream: bytes
    type: bytes
    version: int
    sig: bytes
    sig_start: int
    sig_end: int

    def message(self, data: bytes) -> bytes:
        """The signed bytes: the stored bytes without the `sig` member.

        Removing one member from canonical JSON leaves the canonical JSON of the rest.
        """
        return data[: self.sig_start] + data[self.sig_end :]


def scan(data: bytes) -> Envelope | None:
    """The envelope of canonical record bytes, or None when they do not have the record's shape."""
    if not data.startswith(_HEAD) or data[35:47] != _ORIGIN:
        return None
    origin_end = data.find(b'"', 47)
    if origin_end < 0 or data[origin_end : origin_end + 12] != _PAYLOAD:
        return None
    at = data.rfind(_PREV)
    if at < origin_end:
        return None
    if data[at + 8 : at + 12] == b"null":
        prev, rest = None, at + 12
    elif data[at + 8 : at + 9] == b'"' and data[at + 73 : at + 74] == b'"':
        prev, rest = data[at + 9 : at + 73], at + 74
    else:
        return None
    parts = data[rest:].split(b'"')
    if (
        len(parts) != 19
        or parts[1] != b"recorded_at"
        or parts[5] != b"sig"
        or parts[9] != b"stream"
        or parts[13] != b"type"
        or parts[17] != b"version"
        or parts[18][:1] != b":"
        or parts[18][-1:] != b"}"
    ):
        return None
    digits = parts[18][1:-1]
    if not digits.isdigit() or digits[:1] == b"0" or len(digits) > 15:
        return None
    # `,"sig":"<sig>"` starts where parts[4] (the comma) starts.
    sig_start = rest + len(parts[1]) + len(parts[3]) + 6
    return Envelope(
        data[19:35],
        data[47:origin_end],
        prev,
        parts[3],
        parts[11],
        parts[15],
        int(digits),
        parts[7],
        sig_start,
        sig_start + len(parts[7]) + 9,
    )
