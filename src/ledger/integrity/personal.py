"""Per-person encryption of personal fields: AES-256-GCM bound to the record's identity.

An encrypted field is the JSON object {"enc": "A256GCM", "iv": <b64 12 bytes>, "ct": <b64
ciphertext and tag>}. The associated data is the canonical JSON of
{"origin", "stream", "version", "type", "field"}, so a ciphertext cannot be moved to another
record, another field or another ledger without failing to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.integrity.canonical import canonical_bytes
from ledger.integrity.errors import DecryptionError

ALGORITHM = "A256GCM"


def associated_data(origin: str, stream: str, version: int, type_: str, field: str) -> bytes:
    return canonical_bytes(
        {"origin": origin, "stream": stream, "version": version, "type": type_, "field": field}
    )


def encrypt_field(key: bytes, value: str, aad: bytes) -> dict[str, str]:
    iv = os.urandom(12)
    ct = AESGCM(key).encrypt(iv, value.encode("utf-8"), aad)
    return {
        "enc": ALGORITHM,
        "iv": base64.b64encode(iv).decode("ascii"),
        "ct": base64.b64encode(ct).decode("ascii"),
    }


def is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("enc") == ALGORITHM


def decrypt_field(key: bytes, value: Mapping[str, Any], aad: bytes) -> str:
    try:
        iv = base64.b64decode(value["iv"], validate=True)
        ct = base64.b64decode(value["ct"], validate=True)
        return AESGCM(key).decrypt(iv, ct, aad).decode("utf-8")
    except (KeyError, TypeError, binascii.Error, InvalidTag, UnicodeDecodeError) as exc:
        raise DecryptionError("personal field does not decrypt under its person's key") from exc


def wrap_key(kek: bytes, data_key: bytes, person: str) -> bytes:
    """Encrypt a person's data key under the key-encryption key, bound to the person id."""
    iv = os.urandom(12)
    return iv + AESGCM(kek).encrypt(iv, data_key, person.encode("utf-8"))


def unwrap_key(kek: bytes, wrapped: bytes, person: str) -> bytes:
    try:
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], person.encode("utf-8"))
    except InvalidTag as exc:
        raise DecryptionError(f"the data key of person {person} does not unwrap") from exc


def kek_fingerprint(kek: bytes) -> str:
    """A name for the key-encryption key that reveals nothing of it: SHA-256 over a label and
    the key (a data-key backup records it, so a restore can tell it is the same KEK)."""
    digest = hashlib.sha256(b"ledger person-kek fingerprint\x00" + kek).hexdigest()
    return f"sha256:{digest[:32]}"
