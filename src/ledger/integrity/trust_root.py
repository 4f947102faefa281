"""Trust roots: a ledger's identity, obtained apart from anything the ledger serves.

    {"format": "ledger-trust-root/1", "origin": "<origin>", "genesis": "<hex leaf hash of log
     position 0>", "keys": [{"kid": "...", "purpose": "records" | "checkpoints",
     "public_key": "<standard base64>"}, ...]}

written as canonical JSON (RFC 8785) and a newline. Its fingerprint is `sha256:` and the hex
SHA-256 of the canonical bytes. The Foundation publishes it on its own website; an auditor or a
verifier obtains it separately and passes it with `--trust FILE`. Material chains to the trust
root when its origin is the root's, its log position 0 is the genesis record the root names
(that record introduces exactly the root's keys), and every later key is introduced by the key
history from there.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ledger.integrity.canonical import canonical_bytes
from ledger.integrity.errors import IntegrityError
from ledger.integrity.keyring import PublicKey, key_id
from ledger.integrity.record import SignedRecord, record_digest

FORMAT = "ledger-trust-root/1"


class TrustRootError(IntegrityError):
    """Material does not chain to the trust root, or the trust root file is malformed."""


@dataclass(frozen=True)
class RootKey:
    kid: str
    purpose: str
    public_key: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "kid": self.kid,
            "purpose": self.purpose,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }


@dataclass(frozen=True)
class TrustRoot:
    origin: str
    genesis: str
    keys: tuple[RootKey, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "origin": self.origin,
            "genesis": self.genesis,
            "keys": [key.to_json() for key in self.keys],
        }

    def canonical(self) -> bytes:
        return canonical_bytes(self.to_json())

    def text(self) -> str:
        return self.canonical().decode("utf-8") + "\n"

    @property
    def fingerprint(self) -> str:
        return "sha256:" + hashlib.sha256(self.canonical()).hexdigest()

    @property
    def short_fingerprint(self) -> str:
        """The first 128 bits in groups of four, for people to compare on paper."""
        digits = self.fingerprint[len("sha256:") :][:32]
        return " ".join(digits[i : i + 4] for i in range(0, 32, 4))

    @classmethod
    def from_genesis(cls, genesis: SignedRecord) -> TrustRoot:
        entries = genesis.record.payload.get("keys")
        if not isinstance(entries, list):
            raise TrustRootError("the genesis record lists no keys")
        keys = tuple(
            RootKey(k.kid, k.purpose, k.public_key)
            for k in (PublicKey.from_json(entry) for entry in entries)
        )
        return cls(genesis.record.origin, record_digest(genesis.data), keys)

    @classmethod
    def from_json(cls, data: Any) -> TrustRoot:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise TrustRootError(f"not a trust root: format must be {FORMAT!r}")
        try:
            origin, genesis, entries = data["origin"], data["genesis"], data["keys"]
            keys = tuple(
                RootKey(
                    str(e["kid"]),
                    str(e["purpose"]),
                    base64.b64decode(e["public_key"], validate=True),
                )
                for e in entries
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrustRootError(f"malformed trust root: {exc}") from exc
        if not isinstance(origin, str) or not isinstance(genesis, str) or len(genesis) != 64:
            raise TrustRootError("malformed trust root: origin or genesis digest")
        for key in keys:
            if len(key.public_key) != 32 or key_id(key.public_key) != key.kid:
                raise TrustRootError(f"trust root key {key.kid}: id does not match its key")
        return cls(origin, genesis, keys)

    @classmethod
    def parse(cls, text: str | bytes) -> TrustRoot:
        try:
            return cls.from_json(json.loads(text))
        except ValueError as exc:
            if isinstance(exc, TrustRootError):
                raise
            raise TrustRootError(f"trust root is not JSON: {exc}") from exc

    def check(self, origin: str, genesis: SignedRecord | None) -> None:
        """Raise `TrustRootError` unless `origin` and the genesis record are this root's."""
        if origin != self.origin:
            raise TrustRootError(f"origin {origin} is not the trust root's origin {self.origin}")
        if genesis is None:
            raise TrustRootError("log position 0 is not a genesis record")
        digest = record_digest(genesis.data)
        if digest != self.genesis:
            theirs = TrustRoot.from_genesis(genesis)
            pinned = {k.kid for k in self.keys}
            foreign = [k.kid for k in theirs.keys if k.kid not in pinned]
            detail = f"; its keys {', '.join(foreign)} are not the trust root's" if foreign else ""
            raise TrustRootError(
                f"log position 0 (genesis {digest[:16]}…) is not the trust root's genesis"
                f" {self.genesis[:16]}…{detail}"
            )
