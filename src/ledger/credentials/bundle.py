"""The proof bundle of a certificate: everything `ledger verify` needs to check it offline.

`GET /credentials/{id}/bundle` serves it; a verifier saves it as `proof.json`. Beside the
issuer's DID document, the status lists and the key history, it carries the certificate's whole
history as the log holds it: every record of the certificate's own stream (its issuing event,
renewals, suspensions, reinstatements, scope reductions, revocations), each as leaf data with its
RFC 9162 inclusion proof under one signed checkpoint. From those records a verifier computes the
status on any date with the very functions the ledger's projections use (`projections.facts`),
so the answer offline is the answer `/verify?as_of=` gives online. Reasons in those records are
encrypted (docs/ledger-format.md section 6) and stay so: status needs no reason.

What a bundle cannot prove is that nothing follows its checkpoint: a decision recorded later is
in a later checkpoint (fetch the bundle again for a fresher answer).
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from ledger.credentials.service import Credentials
from ledger.log.key_proofs import key_history_proofs
from ledger.log.public import PublicLog
from ledger.log.storage import LogStorage
from ledger.runtime import Runtime


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def stream_proofs(
    storage: LogStorage, public: PublicLog, stream: UUID, size: int
) -> list[dict[str, Any]]:
    """`[{"position", "leaf_data", "proof"}]` of every record of `stream` below `size`, by version
    (a stream's records are a hash chain, so a verifier sees that none in between is missing)."""
    found: list[dict[str, Any]] = []
    version = 1
    while (position := storage.leaf_index(stream, version)) is not None and position < size:
        leaf = public.entries(position, position + 1)[0]
        found.append(
            {
                "position": position,
                "leaf_data": _b64(leaf.leaf_data),
                "proof": [_b64(h) for h in public.inclusion_proof(position, size)],
            }
        )
        version += 1
    return found


def proof_bundle(runtime: Runtime, certificate_id: str) -> dict[str, Any] | None:
    """The bundle of `certificate_id` (normalised) under the newest checkpoint; None when the
    ledger has no such certificate. Before its first record is under a checkpoint (a second or
    so after it is recorded) `log` is null and there is no history to prove yet."""
    facts = runtime.queries.certificate_facts(certificate_id)
    if facts is None:
        return None
    credentials = Credentials(runtime)
    public = runtime.public_log
    position = int(facts["events"][0][1])
    log: dict[str, Any] | None = None
    history: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    found = public.latest_inclusion(position)
    if found is not None:
        checkpoint, _, proof = found
        log = {
            "position": position,
            "proof": [_b64(h) for h in proof],
            "checkpoint": checkpoint.cosigned_note,
            "leaf_data": _b64(public.entries(position, position + 1)[0].leaf_data),
        }
        history = stream_proofs(runtime.log_storage, public, UUID(facts["stream"]), checkpoint.size)
        keys = key_history_proofs(runtime.log_storage, public, checkpoint.size)
    entry = credentials.entries.entry(certificate_id)
    return {
        "did_document": credentials.issuer.did_document(),
        "status_lists": credentials.status_lists(entry.list_id),  # suspension and message
        "keyring": runtime.store.signing.keyring.to_json(),
        "log": log,
        "history": history,
        "key_history": keys,
    }
