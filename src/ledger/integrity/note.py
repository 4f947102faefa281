"""C2SP signed notes and transparency-log checkpoints.

Implements

* https://c2sp.org/signed-note -- text signed by one or more keys::

      <text ending in "\\n">
      <blank line>
      — <key name> base64(4-byte big-endian key ID || signature)
      ...

  Key IDs are ``SHA-256(key name || 0x0A || signature type || public key)[:4]``.
  Verifier keys (*vkeys*) are ``name+hex8(key ID)+base64(type || public key)``;
  signer keys (*skeys*, Go ``golang.org/x/mod/sumdb/note`` format) are
  ``PRIVATE+KEY+name+hex8(key ID)+base64(0x01 || 32-byte Ed25519 seed)``.

* https://c2sp.org/tlog-checkpoint -- a note whose text is ``origin``, decimal
  tree size, base64 root hash and optional extension lines (:class:`Checkpoint`).

* https://c2sp.org/tlog-cosignature -- Ed25519 ``cosignature/v1`` witness
  signatures (signature type 0x04) are *implemented*: a
  :class:`CosignatureV1Verifier` checks them like any other key; the
  ML-DSA-44 subtree cosignature type (0x06) is not implemented. A cosignature
  line whose key is not among the configured verifiers is, like any unknown
  signature, ignored.

Supported signature types: 0x01 Ed25519 (sign and verify), 0x04 Ed25519
cosignature/v1 (sign and verify), and ECDSA as used by Rekor v1 / the
transparency-dev witness (type 0x02: key ID = ``SHA-256(SPKI DER)[:4]``,
verify only, :class:`ECDSAVerifier`; no vkey string form is defined for it).

All failures raise a subclass of :class:`NoteError`; verifiers never return
``False``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "MAX_SIGNATURES",
    "SIG_TYPE_COSIGNATURE_V1",
    "SIG_TYPE_ECDSA",
    "SIG_TYPE_ED25519",
    "AmbiguousKeyError",
    "Checkpoint",
    "CosignatureV1Verifier",
    "ECDSAVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "InvalidSignatureError",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "MalformedNoteError",
    "NoteError",
    "OriginMismatchError",
    "Signature",
    "UnverifiedNoteError",
    "Verifier",
    "cosignature_v1_message",
    "format_note",
    "is_valid_key_name",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_cosignature_v1",
    "sign_ed25519",
    "sign_note",
]

SIG_TYPE_ED25519 = 0x01
SIG_TYPE_ECDSA = 0x02
SIG_TYPE_COSIGNATURE_V1 = 0x04

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (the spec requires at least 16)."""

_EM_DASH = "\u2014"
_SIG_PREFIX = _EM_DASH + " "
_ED25519_SIG_SIZE = 64
_ED25519_KEY_SIZE = 32
_MAX_UINT64 = 2**64 - 1
_MAX_TIMESTAMP = 2**63 - 1
_CHECKPOINT_SIZE_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_SKEY_PREFIX = "PRIVATE+KEY+"


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


class NoteError(Exception):
    """Base class of every error raised by this module."""


class MalformedNoteError(NoteError):
    """The note does not follow the signed-note syntax."""


class MalformedKeyError(NoteError):
    """A vkey/skey string or raw key is malformed, inconsistent or unsupported."""


class AmbiguousKeyError(NoteError):
    """Two configured verifiers share the same key name and key ID."""


class InvalidSignatureError(NoteError):
    """A signature from a known key (matching name and key ID) does not verify."""

    def __init__(self, name: str, key_id: int, reason: str = "signature does not verify") -> None:
        self.name = name
        self.key_id = key_id
        super().__init__(f"invalid signature by {name}+{key_id:08x}: {reason}")


class UnverifiedNoteError(NoteError):
    """No signature in the note is from a known key.

    ``signatures`` lists the (ignored) signatures from unknown keys.
    """

    def __init__(self, signatures: Sequence[Signature]) -> None:
        self.signatures = list(signatures)
        if self.signatures:
            ids = ", ".join(f"{s.name}+{s.key_id:08x}" for s in self.signatures)
            detail = f"{len(self.signatures)} signature(s) from unknown keys: {ids}"
        else:
            detail = "no signatures"
        super().__init__(f"note has no signature from a known key ({detail})")


class MalformedCheckpointError(NoteError):
    """The note text is not a valid tlog-checkpoint body."""


class OriginMismatchError(NoteError):
    """A checkpoint names a different log origin than the caller expected."""

    def __init__(self, expected: str, got: str) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"checkpoint origin {got!r}, want {expected!r}")


# --------------------------------------------------------------------------- #
# Keys
# --------------------------------------------------------------------------- #


def is_valid_key_name(name: str) -> bool:
    """True iff ``name`` is non-empty and has no Unicode space and no ``+``."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """Return ``SHA-256(name || 0x0A || signature_type || public_key)[:4]`` as a uint32.

    This is the C2SP recommended key ID (mandatory for Ed25519 types 0x01 and
    0x04). Requires ``0 <= signature_type <= 255``.
    """
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode_strict(value: str) -> bytes:
    """Standard base64 with padding; rejects other alphabets and non-canonical input."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"invalid base64: {exc}") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError("non-canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class Verifier(Protocol):
    """A key that can check note signatures; matched by ``(name, key_id)``."""

    @property
    def name(self) -> str:
        """Key name as it appears on signature lines."""
        ...

    @property
    def key_id(self) -> int:
        """32-bit key ID as it prefixes the signature bytes."""
        ...

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check ``signature`` (without the key ID prefix) over the note ``text``.

        Returns ``None`` on success, raises :class:`InvalidSignatureError`.
        """
        ...


def _ed25519_public(public_key: Ed25519PublicKey | bytes) -> tuple[Ed25519PublicKey, bytes]:
    if isinstance(public_key, Ed25519PublicKey):
        key = public_key
    else:
        if len(public_key) != _ED25519_KEY_SIZE:
            raise MalformedKeyError(
                f"Ed25519 public key has length {len(public_key)}, want {_ED25519_KEY_SIZE}"
            )
        key = Ed25519PublicKey.from_public_bytes(bytes(public_key))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, raw


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise MalformedKeyError(f"invalid key name {name!r}")


class _Ed25519Key:
    """Shared state of the Ed25519-based verifiers (types 0x01 and 0x04)."""

    signature_type: int

    def __init__(self, name: str, public_key: Ed25519PublicKey | bytes) -> None:
        """Requires a valid key name and a 32-byte (or parsed) Ed25519 public key."""
        _check_name(name)
        self._name = name
        self._key, self.public_key_bytes = _ed25519_public(public_key)
        self._key_id = key_id(name, self.signature_type, self.public_key_bytes)

    @property
    def name(self) -> str:
        """Key name."""
        return self._name

    @property
    def key_id(self) -> int:
        """``SHA-256(name || 0x0A || signature type || public key)[:4]``."""
        return self._key_id

    def vkey(self) -> str:
        """Verifier key string ``name+hex8(key ID)+base64(type || public key)``."""
        material = bytes([self.signature_type]) + self.public_key_bytes
        return f"{self._name}+{self._key_id:08x}+{_b64encode(material)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vkey()!r})"


class Ed25519Verifier(_Ed25519Key):
    """Verifier for plain Ed25519 note signatures (signature type 0x01)."""

    signature_type = SIG_TYPE_ED25519

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check an RFC 8032 signature over ``text``; raise :class:`InvalidSignatureError`."""
        if len(signature) != _ED25519_SIG_SIZE:
            raise InvalidSignatureError(
                self._name,
                self._key_id,
                f"signature has length {len(signature)}, want {_ED25519_SIG_SIZE}",
            )
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            raise InvalidSignatureError(self._name, self._key_id) from None


def cosignature_v1_message(text: bytes, timestamp: int) -> bytes:
    """Return the tlog-cosignature/v1 signed message for note ``text`` at ``timestamp``.

    ``"cosignature/v1\\ntime <timestamp>\\n" || text``. Requires
    ``0 <= timestamp <= 2**63 - 1``.
    """
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} out of range")
    return b"cosignature/v1\ntime %d\n" % timestamp + text


class CosignatureV1Verifier(_Ed25519Key):
    """Verifier for Ed25519 ``cosignature/v1`` witness signatures (signature type 0x04).

    The signature bytes are ``u64 big-endian timestamp || 64-byte Ed25519
    signature`` over :func:`cosignature_v1_message`. Use
    :meth:`Signature.cosignature_timestamp` to read the timestamp.
    """

    signature_type = SIG_TYPE_COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check a timestamped cosignature over ``text``; raise :class:`InvalidSignatureError`."""
        want = 8 + _ED25519_SIG_SIZE
        if len(signature) != want:
            raise InvalidSignatureError(
                self.name, self.key_id, f"cosignature has length {len(signature)}, want {want}"
            )
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise InvalidSignatureError(
                self.name, self.key_id, f"cosignature timestamp {timestamp} exceeds 2^63-1"
            )
        try:
            self._key.verify(signature[8:], cosignature_v1_message(text, timestamp))
        except InvalidSignature:
            raise InvalidSignatureError(self.name, self.key_id) from None


_ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


class ECDSAVerifier:
    """Verifier for ECDSA note signatures (Rekor v1 checkpoints, type 0x02 witnesses).

    The key ID is ``SHA-256(DER SubjectPublicKeyInfo)[:4]`` (for Rekor this is
    the first 4 bytes of the log ID); the signature is ASN.1 DER over the note
    text with SHA-256/384/512 for P-256/384/521.
    """

    def __init__(self, name: str, public_key: ec.EllipticCurvePublicKey | bytes) -> None:
        """Requires a valid key name and a P-256/384/521 key (object or DER SPKI)."""
        _check_name(name)
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            key = public_key
        else:
            try:
                loaded = serialization.load_der_public_key(bytes(public_key))
            except ValueError as exc:
                raise MalformedKeyError(f"invalid SPKI DER public key: {exc}") from None
            if not isinstance(loaded, ec.EllipticCurvePublicKey):
                raise MalformedKeyError(f"not an ECDSA public key: {type(loaded).__name__}")
            key = loaded
        hash_type = _ECDSA_HASHES.get(key.curve.name)
        if hash_type is None:
            raise MalformedKeyError(f"unsupported ECDSA curve {key.curve.name}")
        self._name = name
        self._key = key
        self._hash = hash_type
        self.spki_der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._key_id = int.from_bytes(hashlib.sha256(self.spki_der).digest()[:4], "big")

    @property
    def name(self) -> str:
        """Key name."""
        return self._name

    @property
    def key_id(self) -> int:
        """``SHA-256(SPKI DER)[:4]``."""
        return self._key_id

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check a DER ECDSA signature over ``text``; raise :class:`InvalidSignatureError`."""
        try:
            self._key.verify(signature, text, ec.ECDSA(self._hash()))
        except InvalidSignature:
            raise InvalidSignatureError(self._name, self._key_id) from None

    def __repr__(self) -> str:
        return f"ECDSAVerifier({self._name!r}, key_id={self._key_id:08x})"


class Ed25519Signer:
    """An Ed25519 note signing key (signature type 0x01)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Requires a valid key name."""
        _check_name(name)
        self.name = name
        self.private_key = private_key
        self._verifier = Ed25519Verifier(name, private_key.public_key())
        self.key_id = self._verifier.key_id

    def verifier(self) -> Ed25519Verifier:
        """The matching verifier."""
        return self._verifier

    def skey(self) -> str:
        """Signer key string ``PRIVATE+KEY+name+hex8(key ID)+base64(0x01 || seed)``."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        material = bytes([SIG_TYPE_ED25519]) + seed
        return f"{_SKEY_PREFIX}{self.name}+{self.key_id:08x}+{_b64encode(material)}"

    def sign(self, text: str) -> Signature:
        """Sign a note text; see :func:`sign_ed25519`."""
        return sign_ed25519(text, self.name, self.private_key)

    def __repr__(self) -> str:
        return f"Ed25519Signer({self.name!r}, key_id={self.key_id:08x})"


def _split_key_string(value: str, what: str) -> tuple[str, int, bytes]:
    name, sep1, rest = value.partition("+")
    hex_id, sep2, material_b64 = rest.partition("+")
    if not (sep1 and sep2):
        raise MalformedKeyError(f"{what} must have the form name+keyid+base64key")
    _check_name(name)
    if len(hex_id) != 8 or not re.fullmatch(r"[0-9a-fA-F]{8}", hex_id):
        raise MalformedKeyError(f"{what} key ID {hex_id!r} is not 8 hex digits")
    try:
        material = _b64decode_strict(material_b64)
    except ValueError as exc:
        raise MalformedKeyError(f"{what} key material: {exc}") from None
    if not material:
        raise MalformedKeyError(f"{what} key material is empty")
    return name, int(hex_id, 16), material


def parse_verifier_key(vkey: str) -> Ed25519Verifier | CosignatureV1Verifier:
    """Parse a verifier key ``name+hex8(key ID)+base64(type || public key)``.

    Supports type 0x01 (returns :class:`Ed25519Verifier`) and type 0x04
    (returns :class:`CosignatureV1Verifier`). Raises :class:`MalformedKeyError`
    for bad syntax, an unsupported type, a wrong key length, or a key ID that
    does not match the name and key.
    """
    name, claimed_id, material = _split_key_string(vkey, "verifier key")
    sig_type, key = material[0], material[1:]
    verifier: Ed25519Verifier | CosignatureV1Verifier
    if sig_type == SIG_TYPE_ED25519:
        verifier = Ed25519Verifier(name, key)
    elif sig_type == SIG_TYPE_COSIGNATURE_V1:
        verifier = CosignatureV1Verifier(name, key)
    else:
        raise MalformedKeyError(f"unsupported verifier key signature type 0x{sig_type:02x}")
    if verifier.key_id != claimed_id:
        raise MalformedKeyError(
            f"verifier key ID {claimed_id:08x} does not match key (computed {verifier.key_id:08x})"
        )
    return verifier


def parse_signer_key(skey: str) -> Ed25519Signer:
    """Parse a signer key ``PRIVATE+KEY+name+hex8(key ID)+base64(0x01 || seed)``.

    Only Ed25519 (type 0x01) is supported. The key ID is checked against the
    public key derived from the 32-byte seed; raises :class:`MalformedKeyError`.
    """
    if not skey.startswith(_SKEY_PREFIX):
        raise MalformedKeyError("signer key must start with PRIVATE+KEY+")
    name, claimed_id, material = _split_key_string(skey[len(_SKEY_PREFIX) :], "signer key")
    if material[0] != SIG_TYPE_ED25519:
        raise MalformedKeyError(f"unsupported signer key signature type 0x{material[0]:02x}")
    seed = material[1:]
    if len(seed) != _ED25519_KEY_SIZE:
        raise MalformedKeyError(f"Ed25519 seed has length {len(seed)}, want {_ED25519_KEY_SIZE}")
    signer = Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(seed))
    if signer.key_id != claimed_id:
        raise MalformedKeyError(
            f"signer key ID {claimed_id:08x} does not match key (computed {signer.key_id:08x})"
        )
    return signer


# --------------------------------------------------------------------------- #
# Notes
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 32-bit key ID and the signature bytes after it."""

    name: str
    key_id: int
    signature: bytes = field(repr=False)

    def to_line(self) -> str:
        """The signature line ``— name base64(key ID || signature)\\n``."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {_b64encode(raw)}\n"

    def cosignature_timestamp(self) -> int:
        """Timestamp of a cosignature/v1 signature (first 8 bytes, big-endian)."""
        if len(self.signature) < 8:
            raise MalformedNoteError("signature too short to carry a cosignature timestamp")
        return int.from_bytes(self.signature[:8], "big")


def _check_text(text: str, error: type[NoteError]) -> None:
    for ch in text:
        if ch < " " and ch != "\n":
            raise error(f"text contains control character U+{ord(ch):04X}")


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_text(text, MalformedNoteError)


def format_note(text: str, signatures: Sequence[Signature]) -> str:
    """Assemble a signed note: ``text``, a blank line, then one line per signature.

    Requires ``text`` to end with a newline, contain no control characters
    other than newline, and at least one signature with a valid key name.
    """
    _check_note_text(text)
    if not signatures:
        raise MalformedNoteError("a signed note needs at least one signature")
    for sig in signatures:
        if not is_valid_key_name(sig.name):
            raise MalformedNoteError(f"invalid key name {sig.name!r}")
    return text + "\n" + "".join(sig.to_line() for sig in signatures)


def sign_ed25519(text: str, name: str, private_key: Ed25519PrivateKey) -> Signature:
    """Return the Ed25519 (type 0x01) signature of note ``text`` by key ``name``.

    Requires ``text`` to be valid note text (ends with newline, no control
    characters) and ``name`` a valid key name. Deterministic (RFC 8032).
    """
    _check_note_text(text)
    signer_id = Ed25519Verifier(name, private_key.public_key()).key_id
    return Signature(name, signer_id, private_key.sign(text.encode("utf-8")))


def sign_cosignature_v1(
    text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> Signature:
    """Return a tlog-cosignature/v1 (type 0x04) signature of checkpoint ``text``.

    Requires valid note text, a valid key name and ``0 <= timestamp < 2**63``.
    """
    _check_note_text(text)
    signer_id = CosignatureV1Verifier(name, private_key.public_key()).key_id
    message = cosignature_v1_message(text.encode("utf-8"), timestamp)
    raw = timestamp.to_bytes(8, "big") + private_key.sign(message)
    return Signature(name, signer_id, raw)


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``text`` signed by one Ed25519 key as a complete signed note."""
    return format_note(text, [sign_ed25519(text, name, private_key)])


def _decode_note(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError(f"note is not valid UTF-8: {exc}") from None
    return note


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNoteError(f"signature line does not start with em dash and space: {line!r}")
    name, sep, sig_b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not sig_b64:
        raise MalformedNoteError(f"signature line has no signature: {line!r}")
    if not is_valid_key_name(name):
        raise MalformedNoteError(f"invalid key name on signature line: {name!r}")
    try:
        raw = _b64decode_strict(sig_b64)
    except ValueError as exc:
        raise MalformedNoteError(f"signature of {name}: {exc}") from None
    if len(raw) < 5:
        raise MalformedNoteError(f"signature of {name} is {len(raw)} bytes, want at least 5")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signatures, without verifying anything.

    The text is everything up to and including the newline before the last
    blank line; every following line must be a signature line. Raises
    :class:`MalformedNoteError` on syntax errors (bad UTF-8, control
    characters, missing blank line or final newline, malformed signature
    lines, more than :data:`MAX_SIGNATURES` signatures).
    """
    msg = _decode_note(note)
    _check_text(msg, MalformedNoteError)
    split = msg.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, sig_block = msg[: split + 1], msg[split + 2 :]
    if not sig_block:
        raise MalformedNoteError("note has no signature lines")
    if not sig_block.endswith("\n"):
        raise MalformedNoteError("note does not end with a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has {len(lines)} signatures, limit {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line) for line in lines]


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        slot = (v.name, v.key_id)
        if slot in known and known[slot] is not v:
            raise AmbiguousKeyError(f"two verifiers for key {v.name}+{v.key_id:08x}")
        known[slot] = v
    return known


def open_note(note_text: str | bytes, verifiers: Iterable[Verifier]) -> tuple[str, list[Signature]]:
    """Parse a signed note and verify it against the trusted ``verifiers``.

    Signatures whose ``(name, key ID)`` matches no verifier are ignored (C2SP:
    "verifiers MUST ignore signatures from unknown keys, even if they share a
    name or ID (but not both)"). Every signature from a known key is verified
    and any failure rejects the whole note with :class:`InvalidSignatureError`.
    If no known key signed, :class:`UnverifiedNoteError` is raised. Returns
    the note text and the verified signatures (exact duplicates collapsed).
    """
    text, signatures = parse_note(note_text)
    known = _index_verifiers(verifiers)
    text_bytes = text.encode("utf-8")
    verified: list[Signature] = []
    unknown: list[Signature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unknown.append(sig)
            continue
        verifier.verify(text_bytes, sig.signature)
        if sig not in verified:
            verified.append(sig)
    if not verified:
        raise UnverifiedNoteError(unknown)
    return text, verified


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


def _check_checkpoint_line(value: str, what: str) -> None:
    if not value:
        raise MalformedCheckpointError(f"checkpoint {what} is empty")
    if "\n" in value:
        raise MalformedCheckpointError(f"checkpoint {what} contains a newline")
    _check_text(value, MalformedCheckpointError)


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Validate: non-empty single-line origin/extensions, uint64 size, 32-byte root."""
        _check_checkpoint_line(self.origin, "origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= _MAX_UINT64:
            raise MalformedCheckpointError(f"checkpoint size {self.size} is not a uint64")
        if len(self.root_hash) != 32:
            raise MalformedCheckpointError(
                f"checkpoint root hash has length {len(self.root_hash)}, want 32"
            )
        for ext in self.extensions:
            _check_checkpoint_line(ext, "extension line")

    def to_text(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` plus extension lines."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Strictly parse a checkpoint note text (not the signed note; see :func:`open_checkpoint`).

    Requires at least three newline-terminated non-empty lines: origin,
    decimal size with no leading zeros (``0`` for the empty tree, at most
    2**64-1), canonical standard base64 of a 32-byte root hash; any further
    lines are non-empty extension lines. Raises :class:`MalformedCheckpointError`.
    """
    if not text.endswith("\n"):
        raise MalformedCheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError(f"checkpoint has {len(lines)} lines, want at least 3")
    origin, size_str, root_b64, *extensions = lines
    if not _CHECKPOINT_SIZE_RE.fullmatch(size_str):
        raise MalformedCheckpointError(f"checkpoint size {size_str!r} is not canonical decimal")
    try:
        root = _b64decode_strict(root_b64)
    except ValueError as exc:
        raise MalformedCheckpointError(f"checkpoint root hash: {exc}") from None
    return Checkpoint(origin, int(size_str), root, tuple(extensions))


def open_checkpoint(
    note: str | bytes, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> tuple[Checkpoint, list[Signature]]:
    """Verify a signed checkpoint note (:func:`open_note`) and parse its text.

    If ``origin`` is given the checkpoint must carry exactly that origin
    (:class:`OriginMismatchError`). The signer's key name is not required to
    equal the origin (Rekor v1 checkpoints, for example, differ).
    """
    text, signatures = open_note(note, verifiers)
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatchError(origin, checkpoint.origin)
    return checkpoint, signatures
