"""The add-checkpoint decision of C2SP tlog-witness, in the order the spec lists its checks.

1. The body parses (else 400), the origin is a pinned log (else 404), a pinned log key signed
   the checkpoint and no pinned key's signature fails (else 403), old size <= size (else 400).
2. Inside one transaction: the old size equals the size last cosigned for the origin, or 0 if
   none (else 409 with that size); a size-0 checkpoint has the empty tree's root, a proof from
   old size 0 is empty, equal sizes have equal roots and otherwise the consistency proof
   verifies (else 422). Then the checkpoint is stored and cosigned (cosignature/v1, timestamped).

A refused checkpoint that contradicts what was cosigned (same size and another root, a smaller
size, a proof that does not verify) is kept as evidence beside the checkpoint it contradicts.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ledger.integrity.merkle import EMPTY_ROOT, ProofError, verify_consistency
from ledger.integrity.note import (
    Checkpoint,
    Ed25519Verifier,
    InvalidSignatureError,
    NoteError,
    Signature,
    UnverifiedNoteError,
    format_note,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_cosignature_v1,
)
from ledger.integrity.tlog_witness import (
    AddCheckpointRequest,
    MalformedWitnessBodyError,
    format_cosignatures,
    origin_hash,
    parse_add_checkpoint,
)
from ledger.witness.folder import WitnessKey
from ledger.witness.storage import CosignedState, Evidence, WitnessStorage

log = logging.getLogger("ledger.witness")

FORK = "fork"
ROLLBACK = "rollback"
INCONSISTENT = "inconsistent"
BAD_EMPTY_ROOT = "bad-empty-root"


class Refusal(Exception):
    """The witness does not cosign; `status` is the HTTP status C2SP tlog-witness names."""

    status = 400
    title = "Malformed request"

    def __init__(self, detail: str, evidence: str | None = None) -> None:
        self.detail = detail
        self.evidence = evidence
        super().__init__(detail)


class MalformedRequest(Refusal):
    status = 400
    title = "Malformed request"


class UnknownLog(Refusal):
    status = 404
    title = "Unknown log"


class BadSignature(Refusal):
    status = 403
    title = "Checkpoint not signed by the log"


class SizeConflict(Refusal):
    status = 409
    title = "Old size does not match"

    def __init__(self, detail: str, cosigned_size: int, evidence: str | None = None) -> None:
        self.cosigned_size = cosigned_size
        super().__init__(detail, evidence)


class InconsistentCheckpoint(Refusal):
    status = 422
    title = "Checkpoint not consistent"


@dataclass(frozen=True)
class Admitted:
    """A request whose checkpoint is validly signed by a pinned key of a known log."""

    request: AddCheckpointRequest
    text: str
    checkpoint: Checkpoint
    log_signatures: tuple[Signature, ...]


def admit(body: bytes, logs: Mapping[str, Sequence[Ed25519Verifier]]) -> Admitted:
    """The checks before the witness's state is read: 400, 404, 403, then old size <= size."""
    try:
        request = parse_add_checkpoint(body)
        text, _ = parse_note(request.note)
        checkpoint = parse_checkpoint(text)
    except (MalformedWitnessBodyError, NoteError) as exc:
        raise MalformedRequest(str(exc)) from exc
    keys = logs.get(checkpoint.origin)
    if not keys:
        raise UnknownLog(f"this witness does not witness a log of origin {checkpoint.origin!r}")
    try:
        _, signatures = open_note(request.note, keys)
    except (InvalidSignatureError, UnverifiedNoteError) as exc:
        raise BadSignature(f"checkpoint of origin {checkpoint.origin}: {exc}") from exc
    if request.old_size > checkpoint.size:
        raise MalformedRequest(
            f"old size {request.old_size} is greater than the checkpoint's size {checkpoint.size}"
        )
    return Admitted(request, text, checkpoint, tuple(signatures))


def judge(
    request: AddCheckpointRequest, checkpoint: Checkpoint, state: CosignedState | None
) -> None:
    """The checks against the last cosigned checkpoint (409 and 422); None means cosign."""
    cosigned = 0 if state is None else state.size
    origin, size = checkpoint.origin, checkpoint.size
    if request.old_size != cosigned:
        kind = None
        if state is not None and size == state.size and checkpoint.root_hash != state.root:
            kind = FORK
        elif state is not None and size < state.size:
            kind = ROLLBACK
        raise SizeConflict(
            f"witness refused checkpoint of size {size} (old size {request.old_size}):"
            f" it has cosigned size {cosigned} for origin {origin}",
            cosigned,
            kind,
        )
    if size == 0 and checkpoint.root_hash != EMPTY_ROOT:
        raise InconsistentCheckpoint(
            "a checkpoint of size 0 must have the empty tree's root hash", BAD_EMPTY_ROOT
        )
    if request.old_size == 0:
        if request.proof:
            raise InconsistentCheckpoint(
                f"old size 0 needs an empty consistency proof, got {len(request.proof)} lines"
            )
        return
    assert state is not None  # old size == cosigned > 0
    if request.old_size == size:
        if request.proof:
            raise InconsistentCheckpoint(
                f"old size equals the size {size}; the proof must be empty,"
                f" got {len(request.proof)} lines"
            )
        if checkpoint.root_hash != state.root:
            raise InconsistentCheckpoint(
                f"checkpoint of size {size} has another root than the one this witness"
                f" cosigned for origin {origin} at that size",
                FORK,
            )
        return
    try:
        verify_consistency(state.size, size, request.proof, state.root, checkpoint.root_hash)
    except ProofError as exc:
        raise InconsistentCheckpoint(
            f"checkpoint of size {size} is not consistent with the cosigned size {state.size}"
            f" for origin {origin}: {exc}",
            INCONSISTENT,
        ) from exc


def _wall_clock() -> int:
    return int(time.time())


class Witness:
    def __init__(
        self,
        key: WitnessKey,
        logs: Mapping[str, Sequence[Ed25519Verifier]],
        storage: WitnessStorage,
        now: Callable[[], int] = _wall_clock,
    ) -> None:
        self.key = key
        self.logs = logs
        self.storage = storage
        self.now = now
        self._by_hash = {origin_hash(origin): origin for origin in logs}

    def add_checkpoint(self, body: bytes) -> bytes:
        """Cosign the checkpoint of an add-checkpoint body, or raise a :class:`Refusal`."""
        admitted = admit(body, self.logs)
        checkpoint, request = admitted.checkpoint, admitted.request
        timestamp = max(1, self.now())  # C2SP: the timestamp MUST NOT be zero
        refusal: Refusal | None = None
        with self.storage.transaction() as tx:
            state = tx.state(checkpoint.origin)
            try:
                judge(request, checkpoint, state)
            except Refusal as exc:
                refusal = exc
                if exc.evidence is not None:
                    tx.add_evidence(
                        Evidence(
                            origin=checkpoint.origin,
                            kind=exc.evidence,
                            reason=exc.detail,
                            received_at=timestamp,
                            old_size=request.old_size,
                            proof=tuple(base64.b64encode(h).decode() for h in request.proof),
                            submitted_note=request.note,
                            cosigned_note=None if state is None else state.note,
                        )
                    )
            else:
                cosignature = sign_cosignature_v1(
                    admitted.text, self.key.name, self.key.private_key, timestamp
                )
                note = format_note(admitted.text, [*admitted.log_signatures, cosignature])
                tx.save_state(
                    CosignedState(
                        checkpoint.origin, checkpoint.size, checkpoint.root_hash, note, timestamp
                    )
                )
        if refusal is not None:
            log.warning("refused: %s", refusal.detail, extra={"status": refusal.status})
            raise refusal
        log.info(
            "cosigned checkpoint of %s", checkpoint.origin, extra={"tree_size": checkpoint.size}
        )
        return format_cosignatures([cosignature])

    def latest(self, hashed_origin: str) -> str | None:
        """The newest cosigned checkpoint of the log whose origin hashes to `hashed_origin`."""
        origin = self._by_hash.get(hashed_origin)
        if origin is None:
            return None
        state = self.storage.state(origin)
        return None if state is None else state.note
