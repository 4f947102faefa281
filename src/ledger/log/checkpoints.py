"""Signed checkpoints: C2SP tlog-checkpoint notes over the log's root.

A checkpoint's text is the origin, the tree size, the base64 root, and one extension line
`signed-at <RFC 3339 time>` so that a verifier can check the checkpoint key's validity window
at the moment of signing. The note is signed by the ledger's current `checkpoints` key under
the key name = origin (C2SP signed-note, Ed25519; key id = first 4 bytes of
SHA-256(name || 0x0A || 0x01 || key)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ledger.integrity.errors import KeyringError
from ledger.integrity.keyring import Keyring, PublicKey, Signer, format_time, parse_time
from ledger.integrity.note import (
    Checkpoint,
    Ed25519Verifier,
    NoteError,
    open_checkpoint,
    sign_note,
)

SIGNED_AT = "signed-at "


class CheckpointError(Exception):
    """A checkpoint does not verify: bad signature, unknown or out-of-window key, wrong origin."""


def checkpoint_text(origin: str, size: int, root: bytes, signed_at: datetime) -> str:
    return Checkpoint(
        origin=origin, size=size, root_hash=root, extensions=(SIGNED_AT + format_time(signed_at),)
    ).to_text()


def verifier_for(origin: str, key: PublicKey) -> Ed25519Verifier:
    return Ed25519Verifier(origin, key.public_key)


def verifier_keys(keyring: Keyring) -> list[str]:
    """Every checkpoint key in C2SP vkey form `name+hexkeyid+base64(0x01 || key)`."""
    return [
        verifier_for(keyring.origin, key).vkey()
        for key in keyring.keys
        if key.purpose == "checkpoints"
    ]


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    signed_at: datetime
    kid: str

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root_hash


def verify_checkpoint(
    note: str, keyring: Keyring, extra_keys: Iterable[PublicKey] = ()
) -> VerifiedCheckpoint:
    """Open a checkpoint note with the key ring's checkpoint keys and check the key's window."""
    keys = {
        verifier_for(keyring.origin, key).key_id: key
        for key in (*keyring.keys, *extra_keys)
        if key.purpose == "checkpoints"
    }
    verifiers = [verifier_for(keyring.origin, key) for key in keys.values()]
    try:
        checkpoint, signatures = open_checkpoint(note, verifiers, origin=keyring.origin)
    except NoteError as exc:
        raise CheckpointError(str(exc)) from exc
    stamps = [line for line in checkpoint.extensions if line.startswith(SIGNED_AT)]
    if len(stamps) != 1:
        raise CheckpointError("checkpoint has no single signed-at line")
    try:
        signed_at = parse_time(stamps[0][len(SIGNED_AT) :])
    except ValueError as exc:
        raise CheckpointError(f"checkpoint signed-at is not a time: {exc}") from exc
    key = keys[signatures[0].key_id]
    try:
        key.check_signing_time(signed_at)
    except KeyringError as exc:
        raise CheckpointError(f"checkpoint key: {exc}") from exc
    return VerifiedCheckpoint(checkpoint=checkpoint, signed_at=signed_at, kid=key.kid)


def sign_checkpoint(
    origin: str, signer: Signer, size: int, root: bytes, signed_at: datetime
) -> str:
    return sign_note(checkpoint_text(origin, size, root, signed_at), origin, signer.private_key)
