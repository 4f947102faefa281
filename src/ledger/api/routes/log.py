"""The log's public face: checkpoints, keys, leaf hashes and RFC 9162 proofs (no token needed),
and its full entries, which hold personal records, for auditors only."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from ledger.api.deps import Auditor, State
from ledger.api.models import Entries, LeafHashes, ProofOut
from ledger.api.problems import Problem
from ledger.api.routes.commands import PROBLEMS
from ledger.log.key_proofs import key_history_proofs

router = APIRouter(prefix="/log", tags=["log"], responses=PROBLEMS)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(app: State) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note), with the cosignature
    lines of the witnesses that have cosigned it (C2SP tlog-cosignature)."""
    latest = app.runtime.public_log.latest_checkpoint()
    if latest is None:
        raise Problem(404, "not-found", "No checkpoint yet", "the log has not signed a checkpoint")
    return PlainTextResponse(latest.cosigned_note, headers={"Cache-Control": "public, max-age=1"})


@router.get("/key", response_class=PlainTextResponse)
def key(app: State) -> PlainTextResponse:
    """The checkpoint verifier key, C2SP `name+keyid+base64` form."""
    return PlainTextResponse(app.runtime.public_log.verifier_key() + "\n")


@router.get("/trust-root")
def trust_root(app: State) -> Response:
    """The ledger's trust root: its origin, genesis record digest and genesis keys.

    Obtain it from the Foundation's own website as well: a copy served here proves nothing by
    itself, but a verifier can compare its fingerprint with the one published elsewhere."""
    root = app.runtime.trust_root()
    return Response(
        root.text(),
        media_type="application/json",
        headers={
            "Cache-Control": "public, max-age=3600",
            "X-Trust-Root-Fingerprint": root.fingerprint,
        },
    )


@router.get("/key-history")
def key_history(app: State) -> dict[str, object]:
    """Every key-history record under the newest checkpoint, each with its inclusion proof.

    A verifier derives the key ring from these (docs/ledger-format.md section 15), starting at
    the genesis its trust root names, instead of trusting `/log/keyring`."""
    latest = app.runtime.public_log.latest_checkpoint()
    if latest is None:
        raise Problem(404, "not-found", "No checkpoint yet", "the log has not signed a checkpoint")
    records = key_history_proofs(app.runtime.log_storage, app.runtime.public_log, latest.size)
    return {"size": latest.size, "checkpoint": latest.cosigned_note, "records": records}


@router.get("/keyring")
def keyring(app: State) -> dict[str, object]:
    """The public key ring, a view of the key-history records in the log (every records and
    checkpoints key with its validity window and compromise mark)."""
    return app.runtime.store.signing.keyring.to_json()


@router.get("/entries", response_model=Entries)
def entries(
    who: Auditor,
    app: State,
    start: Annotated[int, Query(ge=0, le=2**53)],
    end: Annotated[int, Query(ge=1, le=2**53)],
) -> object:
    """Entries `[start, end)` in order (at most 1,000; page on). Auditors only: the records name
    people and certificates (docs/privacy.md); anyone may check the tree with `/log/leaf-hashes`
    and the proofs, and a holder's own records come with their certificate."""
    found = app.runtime.public_log.entries(start, end)
    return {"entries": [{"index": e.index, "leaf_data": _b64(e.leaf_data)} for e in found]}


@router.get("/leaf-hashes", response_model=LeafHashes)
def leaf_hashes(
    app: State,
    start: Annotated[int, Query(ge=0, le=2**53)],
    end: Annotated[int, Query(ge=1, le=2**53)],
) -> object:
    """Leaf hashes `[start, end)` in order (at most 1,000; page on), standard base64."""
    found = app.runtime.public_log.leaf_hashes(start, end)
    return {"start": start, "hashes": [_b64(h) for h in found]}


@router.get("/proof/inclusion", response_model=ProofOut, response_model_exclude_none=True)
def inclusion(
    app: State,
    index: Annotated[int, Query(ge=0, le=2**53)],
    size: Annotated[int, Query(ge=1, le=2**53)],
) -> object:
    proof = app.runtime.public_log.inclusion_proof(index, size)
    return {"index": index, "size": size, "proof": [_b64(h) for h in proof]}


@router.get(
    "/proof/consistency",
    response_model=ProofOut,
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
def consistency(
    app: State,
    first: Annotated[int, Query(alias="from", ge=1, le=2**53)],
    second: Annotated[int, Query(alias="to", ge=1, le=2**53)],
) -> object:
    proof = app.runtime.public_log.consistency_proof(first, second)
    return {"first": first, "second": second, "proof": [_b64(h) for h in proof]}
