"""Getting the log's checkpoints cosigned by witnesses (the client side of C2SP tlog-witness).

A background step, apart from the write path: every round it takes the newest signed
checkpoint and, for each witness of the policy that has a URL and has not cosigned it yet,
posts `add-checkpoint` with the consistency proof from the size that witness last cosigned.
A 409 says which size the witness holds; the request is retried once from there. The returned
cosignature is checked against the witness's pinned key and stored beside the checkpoint. A
witness that fails is retried later, with a growing pause; nothing is lost, as every checkpoint
is stored before it is submitted.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ledger.integrity.merkle import consistency_proof
from ledger.integrity.note import InvalidSignatureError, parse_checkpoint, parse_note
from ledger.integrity.tlog_witness import (
    ADD_CHECKPOINT,
    MalformedWitnessBodyError,
    format_add_checkpoint,
    parse_cosignatures,
    parse_size,
)
from ledger.integrity.witness_policy import PolicyWitness, WitnessPolicy
from ledger.log.sequencer import node_reader
from ledger.log.storage import LogStorage, StoredCheckpoint

log = logging.getLogger("ledger.witnessing")

TIMEOUT = 10.0
MAX_PAUSE = 60.0
_MAX_CONFLICT_RETRIES = 2


class WitnessSubmissionError(Exception):
    """A witness did not cosign a checkpoint; the message says which, and why."""


@dataclass(frozen=True)
class WitnessResponse:
    status: int
    content_type: str
    body: bytes


class Transport(Protocol):
    def post(self, url: str, body: bytes) -> WitnessResponse:
        """POST `body`; any HTTP status is an answer, only an unreachable witness raises."""
        ...


class HttpTransport:
    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    def post(self, url: str, body: bytes) -> WitnessResponse:
        if not url.startswith(("http://", "https://")):
            raise WitnessSubmissionError(f"witness URL {url} is not http(s)")
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", "text/plain; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return WitnessResponse(
                    response.status, response.headers.get("Content-Type", ""), response.read()
                )
        except urllib.error.HTTPError as exc:
            return WitnessResponse(exc.code, exc.headers.get("Content-Type", ""), exc.read())
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise WitnessSubmissionError(f"witness at {url} is unreachable: {exc}") from exc


class Witnessing:
    def __init__(
        self,
        storage: LogStorage,
        policy: WitnessPolicy,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.witnesses = [w for w in policy.witnesses.values() if w.url]
        self.transport = transport or HttpTransport()
        self.clock = clock
        self._pause: dict[str, float] = {}
        self._retry_at: dict[str, float] = {}
        for witness in policy.witnesses.values():
            if not witness.url:
                log.warning(
                    "witness %s has no URL in the policy; not submitting to it", witness.name
                )

    def submit_once(self) -> int:
        """One round: submit the newest checkpoint to each witness due; how many cosigned it."""
        with self.storage.read() as tx:
            latest = tx.latest_checkpoint()
        if latest is None:
            return 0
        sizes = self.storage.witness_sizes()
        cosigned = 0
        for witness in self.witnesses:
            key = witness.verifier.name
            held = sizes.get(key, 0)
            if held >= latest.size or self.clock() < self._retry_at.get(key, 0.0):
                continue
            try:
                self.submit(witness, latest, held)
            except WitnessSubmissionError as exc:
                pause = min(self._pause.get(key, 0.5) * 2, MAX_PAUSE)
                self._pause[key], self._retry_at[key] = pause, self.clock() + pause
                log.warning("%s (retrying in %.0f s)", exc, pause)
                continue
            self._pause.pop(key, None)
            self._retry_at.pop(key, None)
            cosigned += 1
        return cosigned

    def submit(self, witness: PolicyWitness, checkpoint: StoredCheckpoint, old: int) -> str:
        """Get `checkpoint` cosigned by `witness`; store and return the cosignature line."""
        assert witness.url is not None
        url = witness.url.rstrip("/") + ADD_CHECKPOINT
        origin = parse_checkpoint(parse_note(checkpoint.note)[0]).origin
        for _ in range(_MAX_CONFLICT_RETRIES + 1):
            body = format_add_checkpoint(old, self._proof(old, checkpoint.size), checkpoint.note)
            response = self.transport.post(url, body)
            if response.status == 200:
                return self._keep(witness, checkpoint, response.body)
            if response.status != 409:
                detail = response.body.decode("utf-8", errors="replace").strip()[:300]
                raise WitnessSubmissionError(
                    f"witness {witness.name} refused checkpoint of size {checkpoint.size} for"
                    f" origin {origin} with status {response.status}: {detail}"
                )
            try:
                held = parse_size(response.body)
            except MalformedWitnessBodyError as exc:
                raise WitnessSubmissionError(
                    f"witness {witness.name} answered 409 without a size: {exc}"
                ) from exc
            if held > checkpoint.size:
                raise WitnessSubmissionError(
                    f"witness {witness.name} refused checkpoint of size {checkpoint.size}: it has"
                    f" cosigned size {held} for origin {origin}, larger than this log's newest"
                    " checkpoint; the witness has seen a tree this log does not have"
                )
            if held == old:
                raise WitnessSubmissionError(
                    f"witness {witness.name} answered 409 with the old size {old} it was sent"
                )
            log.info(
                "witness %s refused checkpoint of size %d: it has cosigned size %d for origin %s;"
                " retrying with a proof from %d",
                witness.name,
                checkpoint.size,
                held,
                origin,
                held,
            )
            old = held
        raise WitnessSubmissionError(
            f"witness {witness.name} kept answering 409 for checkpoint of size {checkpoint.size}"
        )

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old in (0, size):
            return []
        with self.storage.read() as tx:
            return consistency_proof(old, size, node_reader(tx))

    def _keep(self, witness: PolicyWitness, checkpoint: StoredCheckpoint, body: bytes) -> str:
        try:
            signatures = parse_cosignatures(body)
        except MalformedWitnessBodyError as exc:
            raise WitnessSubmissionError(f"witness {witness.name}: {exc}") from exc
        text = parse_note(checkpoint.note)[0].encode("utf-8")
        pinned = witness.verifier
        for signature in signatures:
            if (signature.name, signature.key_id) != (pinned.name, pinned.key_id):
                continue  # C2SP: ignore cosignatures from keys we do not know
            try:
                pinned.verify(text, signature.signature)
            except InvalidSignatureError as exc:
                raise WitnessSubmissionError(f"witness {witness.name}: {exc}") from exc
            line = signature.to_line()
            self.storage.add_cosignature(
                checkpoint.size, pinned.name, line, signature.cosignature_timestamp()
            )
            log.info(
                "checkpoint cosigned by witness %s",
                witness.name,
                extra={"tree_size": checkpoint.size},
            )
            return line
        raise WitnessSubmissionError(
            f"witness {witness.name} answered without a cosignature by its pinned key"
            f" {pinned.vkey()}"
        )

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Keep submitting until `stop` is set (a thread of the active background worker)."""
        while not stop.is_set():
            try:
                self.submit_once()
            except Exception:
                log.exception("witness submission round failed; retrying")
            stop.wait(poll)
