"""One record of the public log, checked as anyone could check it: its bytes hash to the leaf
at its position, its signature verifies under the ledger's records key, the newest checkpoint
is signed by the log's key, and the inclusion proof leads from the leaf to that checkpoint's
root (RFC 9162). Each check is reported with what it compared, never as a bare yes or no."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.integrity.errors import IntegrityError
from ledger.integrity.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.integrity.record import open_record, verify_signature
from ledger.log.checkpoints import CheckpointError, verify_checkpoint
from ledger.runtime import Runtime
from projections.base import Event


@dataclass(frozen=True)
class Check:
    what: str  # what was checked, in words
    passed: bool
    detail: str  # what was compared, or why it failed


@dataclass(frozen=True)
class RecordProof:
    position: int
    type: str
    stream: str
    version: int
    recorded_at: str
    leaf_hash: str  # hex
    checkpoint_size: int | None  # None: not yet under a signed checkpoint
    checkpoint_root: str | None  # hex
    checkpoint_signed_at: str | None
    proof: tuple[str, ...]  # hex, leaf to root
    checks: tuple[Check, ...]

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def waiting(self) -> bool:
        """Recorded, but not yet under a signed checkpoint (within moments of being written)."""
        return self.checkpoint_size is None


def prove(runtime: Runtime, position: int) -> RecordProof | None:
    """The record at `position` and its checks (None: the log has no such position)."""
    log = runtime.public_log
    if position < 0:
        return None
    entries = log.entries(position, position + 1)
    if not entries:
        return None
    data = entries[0].leaf_data
    event = Event.from_record(position, data)
    computed = leaf_hash(data)
    keyring = runtime.store.signing.keyring
    checks = [_signature(data, event, runtime)]
    found = log.latest_inclusion(position)
    if found is None:
        return RecordProof(
            position,
            event.type,
            event.stream,
            event.version,
            event.recorded_at,
            computed.hex(),
            None,
            None,
            None,
            (),
            tuple(checks),
        )
    latest, stored, proof = found
    checks.append(
        Check(
            "The record's bytes hash to the leaf stored at its position",
            stored == computed,
            f"SHA-256 of 0x00 and the record: {computed.hex()}; stored leaf: {stored.hex()}",
        )
    )
    try:
        signed = verify_checkpoint(latest.note, keyring)
        same = signed.size == latest.size and signed.root == latest.root
        checks.append(
            Check(
                "The newest checkpoint is signed by the log's key",
                same,
                f"key {signed.kid}; tree of {signed.size} records"
                if same
                else "the signed note names another tree than the one stored",
            )
        )
    except CheckpointError as exc:
        checks.append(Check("The newest checkpoint is signed by the log's key", False, str(exc)))
    try:
        verify_inclusion(computed, position, latest.size, proof, latest.root)
        checks.append(
            Check(
                "The inclusion proof leads from the leaf to the checkpoint's root",
                True,
                f"{len(proof)} hashes recompute the root {latest.root.hex()}",
            )
        )
    except MerkleError as exc:
        checks.append(
            Check(
                "The inclusion proof leads from the leaf to the checkpoint's root", False, str(exc)
            )
        )
    return RecordProof(
        position,
        event.type,
        event.stream,
        event.version,
        event.recorded_at,
        computed.hex(),
        latest.size,
        latest.root.hex(),
        latest.signed_at,
        tuple(h.hex() for h in proof),
        tuple(checks),
    )


def _signature(data: bytes, event: Event, runtime: Runtime) -> Check:
    what = "The record is signed by the ledger's records key"
    try:
        signed = open_record(data, event.stream, event.version)
        verify_signature(signed, runtime.store.signing.keyring)
    except IntegrityError as exc:
        return Check(what, False, str(exc))
    return Check(what, True, f"Ed25519 signature under key {signed.record.kid}")
