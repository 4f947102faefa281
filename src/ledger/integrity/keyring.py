"""The key ring: Ed25519 keys with ids, purposes, validity windows and compromise times.

The public part (`keyring.json`) is what auditors and verifiers need; private keys live beside it
in `private/`, one file per key, created with mode 0600 and never written anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.integrity.errors import KeyringError

Purpose = Literal["records", "checkpoints"]
PURPOSES: tuple[Purpose, ...] = ("records", "checkpoints")
KEYRING_FILE = "keyring.json"
PRIVATE_DIR = "private"


def key_id(public_key: bytes) -> str:
    """The key id of an Ed25519 public key: the first 16 hex digits of SHA-256 of its 32 bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a `Z`: the only time format records use."""
    if moment.tzinfo is None:
        raise ValueError(f"time {moment!r} has no time zone")
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if utc.year < 1000:  # isoformat pads the year; strftime, as records always have, does not
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse a time written by `format_time` (any RFC 3339 UTC form is accepted)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class PublicKey:
    """One entry of the public key ring."""

    kid: str
    purpose: Purpose
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None = None
    compromised_from: datetime | None = None

    def check_signing_time(self, moment: datetime) -> None:
        """Raise `KeyringError` unless a signature made at `moment` may be trusted."""
        if self.compromised_from is not None and moment >= self.compromised_from:
            raise KeyringError(
                f"key {self.kid} is compromised from {format_time(self.compromised_from)};"
                f" signature made at {format_time(moment)} is not trusted"
            )
        if moment < self.valid_from:
            raise KeyringError(
                f"key {self.kid} is valid from {format_time(self.valid_from)};"
                f" signature made at {format_time(moment)} is before that"
            )
        if self.valid_until is not None and moment >= self.valid_until:
            raise KeyringError(
                f"key {self.kid} expired at {format_time(self.valid_until)};"
                f" signature made at {format_time(moment)} is after that"
            )

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": "Ed25519",
            "purpose": self.purpose,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
            "valid_from": format_time(self.valid_from),
            "valid_until": None if self.valid_until is None else format_time(self.valid_until),
            "compromised_from": (
                None if self.compromised_from is None else format_time(self.compromised_from)
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicKey:
        try:
            public_key = base64.b64decode(data["public_key"], validate=True)
            if data.get("alg", "Ed25519") != "Ed25519" or len(public_key) != 32:
                raise KeyringError(f"key {data.get('kid')!r}: not a 32-byte Ed25519 key")
            kid = str(data["kid"])
            if kid != key_id(public_key):
                raise KeyringError(f"key {kid}: id does not match its public key")
            purpose = data["purpose"]
            if purpose not in PURPOSES:
                raise KeyringError(f"key {kid}: unknown purpose {purpose!r}")
            return cls(
                kid=kid,
                purpose=purpose,
                public_key=public_key,
                valid_from=parse_time(data["valid_from"]),
                valid_until=_optional_time(data.get("valid_until")),
                compromised_from=_optional_time(data.get("compromised_from")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyringError(f"malformed key ring entry: {exc}") from exc


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else parse_time(str(value))


@dataclass(frozen=True)
class Signer:
    """A private key in use: signs with the key id of its public half."""

    kid: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


@dataclass(frozen=True)
class Keyring:
    """The ledger's origin and every public key it has ever used."""

    origin: str
    keys: tuple[PublicKey, ...]

    def get(self, kid: str) -> PublicKey:
        for key in self.keys:
            if key.kid == kid:
                return key
        raise KeyringError(f"key {kid} is not in the key ring")

    def current(self, purpose: Purpose, at: datetime) -> PublicKey:
        """The newest key of `purpose` that may sign at `at`."""
        usable = []
        for key in self.keys:
            if key.purpose != purpose:
                continue
            try:
                key.check_signing_time(at)
            except KeyringError:
                continue
            usable.append(key)
        if not usable:
            raise KeyringError(f"no {purpose} key is valid at {format_time(at)}")
        return max(usable, key=lambda k: k.valid_from)

    def keys_by_kid(self) -> dict[str, PublicKey]:
        return {key.kid: key for key in self.keys}

    def with_keys(self, keys: Iterable[PublicKey]) -> Keyring:
        return replace(self, keys=tuple(keys))

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "keys": [key.to_json() for key in self.keys]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Keyring:
        try:
            origin = str(data["origin"])
            keys = tuple(PublicKey.from_json(entry) for entry in data["keys"])
        except (KeyError, TypeError) as exc:
            raise KeyringError(f"malformed key ring: missing {exc}") from exc
        return cls(origin=origin, keys=keys)


def validate_origin(origin: str) -> str:
    """An origin is one line of printable ASCII without spaces (C2SP tlog-checkpoint)."""
    if not origin or any(not (0x21 <= ord(c) <= 0x7E) for c in origin):
        raise KeyringError(f"origin {origin!r} must be non-empty printable ASCII without spaces")
    return origin


class KeyDirectory:
    """A folder holding `keyring.json` and `private/<kid>.pem` (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def keyring_path(self) -> Path:
        return self.path / KEYRING_FILE

    def exists(self) -> bool:
        return self.keyring_path.is_file()

    def load(self) -> Keyring:
        if not self.exists():
            raise KeyringError(
                f"no key ring at {self.keyring_path}; create one with `ledger keys init`"
            )
        with self.keyring_path.open("rb") as handle:
            return Keyring.from_json(json.load(handle))

    def save(self, keyring: Keyring) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.keyring_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(keyring.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.keyring_path)

    def signer(self, key: PublicKey) -> Signer:
        path = self.path / PRIVATE_DIR / f"{key.kid}.pem"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyringError(f"private key for {key.kid} is not in {path.parent}") from exc
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyringError(f"private key file for {key.kid} is not an Ed25519 key")
        signer = Signer(kid=key.kid, private_key=private)
        if signer.public_key != key.public_key:
            raise KeyringError(f"private key file for {key.kid} does not match its public key")
        return signer

    def write_private(self, private: Ed25519PrivateKey) -> str:
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        kid = key_id(public)
        directory = self.path / PRIVATE_DIR
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_secret(directory / f"{kid}.pem", pem)
        return kid

    def secret(self, name: str, size: int = 32) -> bytes:
        """A named symmetric secret (e.g. the key that wraps per-person keys), made on first use."""
        path = self.path / PRIVATE_DIR / f"{name}.key"
        if path.exists():
            data = base64.b64decode(path.read_bytes())
            if len(data) != size:
                raise KeyringError(f"secret {name} in {path.parent} has the wrong length")
            return data
        (self.path / PRIVATE_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
        data = os.urandom(size)
        _write_secret(path, base64.b64encode(data) + b"\n")
        return data


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def new_key(directory: KeyDirectory, purpose: Purpose, valid_from: datetime) -> PublicKey:
    """Generate a key pair, store the private half (0600) and return the public entry."""
    private = Ed25519PrivateKey.generate()
    kid = directory.write_private(private)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PublicKey(kid=kid, purpose=purpose, public_key=public, valid_from=valid_from)


def init_keyring(directory: KeyDirectory, origin: str, now: datetime) -> Keyring:
    """Create a new key ring with one records key and one checkpoints key."""
    if directory.exists():
        raise KeyringError(f"a key ring already exists at {directory.keyring_path}")
    keyring = Keyring(
        origin=validate_origin(origin),
        keys=tuple(new_key(directory, purpose, now) for purpose in PURPOSES),
    )
    directory.save(keyring)
    directory.secret("person-kek")
    return keyring
