"""C2SP tlog-witness: the bodies of the `add-checkpoint` call, byte for byte.

Request (``POST <submission prefix>/add-checkpoint``)::

    old <size>\\n                 decimal, no leading zeroes ("0" for zero)
    <base64 hash>\\n              zero to 63 consistency proof lines
    \\n
    <signed checkpoint note>

Response 200: one or more note signature lines (``— <name> <base64>\\n``), the witness's
cosignatures. Response 409: the size the witness last cosigned, in decimal and a newline, with
``Content-Type: text/x.tlog.size``. The monitoring read is ``GET <monitoring prefix>/<origin
hash>/checkpoint``, the origin hash being lower-case hex SHA-256 of the origin.

Pure formatting and parsing; every malformed body raises :class:`MalformedWitnessBodyError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.integrity.merkle import HASH_SIZE
from ledger.integrity.note import MalformedNoteError, Signature, parse_note

__all__ = [
    "ADD_CHECKPOINT",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "MalformedWitnessBodyError",
    "format_add_checkpoint",
    "format_cosignatures",
    "format_size",
    "origin_hash",
    "parse_add_checkpoint",
    "parse_cosignatures",
    "parse_size",
]

ADD_CHECKPOINT = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
_DECIMAL = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_MAX_UINT64 = 2**64 - 1


class MalformedWitnessBodyError(ValueError):
    """A request or response body does not follow C2SP tlog-witness (says which line)."""


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint request: the old size, the proof hashes and the signed note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise MalformedWitnessBodyError(f"{what} {text!r} is not a decimal with no leading zeroes")
    value = int(text)
    if value > _MAX_UINT64:
        raise MalformedWitnessBodyError(f"{what} {value} does not fit in 64 bits")
    return value


def _hash(line: str, number: int) -> bytes:
    try:
        raw = base64.b64decode(line.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedWitnessBodyError(
            f"consistency proof line {number} is not base64: {line[:60]!r}"
        ) from None
    if base64.b64encode(raw).decode("ascii") != line:
        raise MalformedWitnessBodyError(f"consistency proof line {number} is not canonical base64")
    if len(raw) != HASH_SIZE:
        raise MalformedWitnessBodyError(
            f"consistency proof line {number} is a {len(raw)}-byte value, want a"
            f" {HASH_SIZE}-byte hash"
        )
    return raw


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint request body (the signed note is split off, not verified)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedWitnessBodyError(f"request body is not UTF-8: {exc}") from None
    first, newline, rest = text.partition("\n")
    if not newline:
        raise MalformedWitnessBodyError("request body has no old size line ending in a newline")
    if not first.startswith("old "):
        raise MalformedWitnessBodyError(f"first line must be 'old <size>', got {first[:60]!r}")
    old_size = _decimal(first[len("old ") :], "old size")
    proof: list[bytes] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise MalformedWitnessBodyError(
                "request body has no empty line between the proof and the checkpoint"
            )
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise MalformedWitnessBodyError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_hash(line, len(proof) + 1))
    if not rest:
        raise MalformedWitnessBodyError("request body has no checkpoint after the empty line")
    return AddCheckpointRequest(old_size, tuple(proof), rest)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body for a signed checkpoint ``note`` and a proof from ``old_size``."""
    if not 0 <= old_size <= _MAX_UINT64:
        raise ValueError(f"old size {old_size} is not a uint64")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"a proof of {len(proof)} hashes is longer than {MAX_PROOF_LINES}")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


def format_cosignatures(signatures: Sequence[Signature]) -> bytes:
    """The 200 response body: one signature line per cosignature."""
    if not signatures:
        raise ValueError("a witness response carries at least one cosignature")
    return "".join(s.to_line() for s in signatures).encode("utf-8")


def parse_cosignatures(body: bytes) -> list[Signature]:
    """Parse a 200 response body into its signature lines (not verified here)."""
    if not body:
        raise MalformedWitnessBodyError("witness response is empty; want signature lines")
    try:
        # Reuse the signed-note parser: a response is the signature block of a note.
        _, signatures = parse_note(b"x\n\n" + body)
    except MalformedNoteError as exc:
        raise MalformedWitnessBodyError(f"witness response: {exc}") from None
    return signatures


def format_size(size: int) -> bytes:
    """The 409 response body: the latest cosigned size and a newline."""
    return f"{size}\n".encode("ascii")


def parse_size(body: bytes) -> int:
    """Parse a 409 response body (``<decimal>\\n``)."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or "\n" in text[:-1]:
        raise MalformedWitnessBodyError(f"conflict body {text[:40]!r} is not one line")
    return _decimal(text[:-1], "cosigned size")


def origin_hash(origin: str) -> str:
    """Lower-case hex SHA-256 of the origin line (the monitoring path element)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()
