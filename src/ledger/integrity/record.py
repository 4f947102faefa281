"""The signed record: the canonical bytes of one stored event, and its Ed25519 signature.

A record is an RFC 8785 JSON object with exactly these members:

    format       1
    origin       the ledger's origin (one per ledger, also the log's checkpoint origin)
    stream       the stream (aggregate) id
    version      the position of the event in its stream, from 1
    type         the stable event type name
    recorded_at  transaction time, RFC 3339 UTC with microseconds
    payload      the event's data (personal fields encrypted)
    prev         the previous record's digest in the stream (hex), null at version 1
    kid          id of the signing key

The signature is Ed25519 over the canonical bytes of that object. The stored bytes are the
canonical bytes of the same object with one more member, `sig` (standard base64 of the 64-byte
signature). A record's digest is its RFC 9162 leaf hash, SHA-256(0x00 || stored bytes): the next
record of the stream names it as `prev`, and the stored bytes are the leaf data of the
transparency log, so one hash serves both the stream chain and the log.
See docs/ledger-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.integrity.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalError,
    canonical_bytes,
    encode_string,
    parse_canonical,
)
from ledger.integrity.errors import KeyringError, RecordIntegrityError
from ledger.integrity.keyring import Keyring, Signer, format_time, parse_time

FORMAT = 1
_MEMBERS = frozenset(
    {"format", "origin", "stream", "version", "type", "recorded_at", "payload", "prev", "kid"}
)


@dataclass(frozen=True)
class Record:
    """The signed content of one event, before its signature."""

    origin: str
    stream: str
    version: int
    type: str
    recorded_at: datetime
    payload: dict[str, Any]
    prev: str | None
    kid: str

    def members(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "origin": self.origin,
            "stream": self.stream,
            "version": self.version,
            "type": self.type,
            "recorded_at": format_time(self.recorded_at),
            "payload": self.payload,
            "prev": self.prev,
            "kid": self.kid,
        }

    def message(self) -> bytes:
        """The exact bytes the signature covers: the canonical bytes of `members()`. When the
        members have the types a record holds, the envelope is written directly (its member
        names are fixed, and this is their RFC 8785 order) around the canonical payload."""
        version, prev = self.version, self.prev
        if not (
            type(version) is int
            and 0 <= version <= MAX_SAFE_INTEGER
            and type(self.origin) is str
            and type(self.stream) is str
            and type(self.type) is str
            and type(self.kid) is str
            and (prev is None or type(prev) is str)
        ):
            return canonical_bytes(self.members())
        kid, origin = encode_string(self.kid), encode_string(self.origin)
        head = f'{{"format":{FORMAT},"kid":{kid},"origin":{origin},"payload":'
        tail = (
            f',"prev":{"null" if prev is None else encode_string(prev)}'
            f',"recorded_at":"{format_time(self.recorded_at)}"'
            f',"stream":{encode_string(self.stream)},"type":{encode_string(self.type)},"version":{version}}}'
        )
        try:
            head_bytes, tail_bytes = head.encode("utf-8"), tail.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"string is not valid Unicode (lone surrogate): {exc}") from exc
        return head_bytes + canonical_bytes(self.payload) + tail_bytes


@dataclass(frozen=True)
class SignedRecord:
    """A record with its signature, and the exact bytes that are stored."""

    record: Record
    signature: bytes
    data: bytes

    @property
    def digest(self) -> str:
        """Hex of the record's RFC 9162 leaf hash: SHA-256(0x00 || stored bytes)."""
        return record_digest(self.data)


def record_digest(data: bytes) -> str:
    return hashlib.sha256(b"\x00" + data).hexdigest()


def seal(record: Record, signer: Signer) -> SignedRecord:
    """Sign `record` and produce its stored bytes."""
    if record.kid != signer.kid:
        raise ValueError(f"record names key {record.kid} but signer holds {signer.kid}")
    message = record.message()
    signature = signer.sign(message)
    # `sig` sorts between `recorded_at` and `stream`: insert it there (still canonical).
    at = message.rindex(b',"stream":"')
    sig = b',"sig":"' + base64.b64encode(signature) + b'"'
    return SignedRecord(record=record, signature=signature, data=message[:at] + sig + message[at:])


def open_record(data: bytes, stream: str, version: int, *, strict: bool = True) -> SignedRecord:
    """Parse stored bytes found at (`stream`, `version`), checking form but not the signature.

    Raises `RecordIntegrityError` naming `stream` and `version` when the bytes are not a
    record (with `strict`, a canonical one), or when the record names another stream or
    version than where it is stored. Reading a chained stream may skip the canonical check:
    the chain and the newest signature commit every byte anyway.
    """
    try:
        members = parse_canonical(data, strict=strict)
    except CanonicalError as exc:
        raise RecordIntegrityError(
            stream, version, f"stored bytes are not a record: {exc}"
        ) from exc
    if not isinstance(members, dict):
        raise RecordIntegrityError(stream, version, "stored record is not a JSON object")
    try:
        signature = base64.b64decode(members.pop("sig"), validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise RecordIntegrityError(stream, version, "record has no valid signature member") from exc
    if set(members) != _MEMBERS:
        missing = sorted(_MEMBERS - set(members))
        extra = sorted(set(members) - _MEMBERS)
        raise RecordIntegrityError(
            stream, version, f"record members differ: missing {missing}, unexpected {extra}"
        )
    try:
        record = Record(
            origin=_text(members["origin"]),
            stream=_text(members["stream"]),
            version=_integer(members["version"]),
            type=_text(members["type"]),
            recorded_at=parse_time(_text(members["recorded_at"])),
            payload=_object(members["payload"]),
            prev=None if members["prev"] is None else _text(members["prev"]),
            kid=_text(members["kid"]),
        )
    except (TypeError, ValueError) as exc:
        raise RecordIntegrityError(stream, version, f"record member has wrong type: {exc}") from exc
    if members["format"] != FORMAT:
        raise RecordIntegrityError(stream, version, f"unknown record format {members['format']!r}")
    if len(signature) != 64:
        raise RecordIntegrityError(stream, version, "signature is not 64 bytes")
    if record.stream != stream:
        raise RecordIntegrityError(
            stream, version, f"record belongs to stream {record.stream}, stored under {stream}"
        )
    if record.version != version:
        raise RecordIntegrityError(
            stream, version, f"record is version {record.version}, stored as version {version}"
        )
    return SignedRecord(record=record, signature=signature, data=data)


def verify_signature(signed: SignedRecord, keyring: Keyring) -> None:
    """Check the signature and that its key was trusted when the record was made."""
    record = signed.record
    try:
        key = keyring.get(record.kid)
        if key.purpose != "records":
            raise KeyringError(f"key {record.kid} is a {key.purpose} key, not a records key")
        key.check_signing_time(record.recorded_at)
    except KeyringError as exc:
        raise RecordIntegrityError(record.stream, record.version, str(exc)) from exc
    if not key.verify(signed.signature, record.message()):
        raise RecordIntegrityError(
            record.stream, record.version, f"signature does not verify under key {record.kid}"
        )


def check_link(signed: SignedRecord, previous_digest: str | None) -> None:
    """Check that `signed` names `previous_digest` (None at the start of a stream)."""
    record = signed.record
    if record.prev == previous_digest:
        return
    if previous_digest is None:
        raise RecordIntegrityError(
            record.stream, record.version, "first record of a stream must have prev null"
        )
    raise RecordIntegrityError(
        record.stream,
        record.version - 1,
        f"record does not match the digest that version {record.version} names"
        f" (expected {record.prev}, got {previous_digest})",
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value
