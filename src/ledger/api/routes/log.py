"""The log's public face: checkpoints, keys, entries and RFC 9162 proofs (no token needed)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from ledger.api.deps import State
from ledger.api.models import Entries, ProofOut
from ledger.api.problems import Problem
from ledger.api.routes.commands import PROBLEMS

router = APIRouter(prefix="/log", tags=["log"], responses=PROBLEMS)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(app: State) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP tlog-checkpoint signed note)."""
    latest = app.runtime.public_log.latest_checkpoint()
    if latest is None:
        raise Problem(404, "not-found", "No checkpoint yet", "the log has not signed a checkpoint")
    return PlainTextResponse(latest.note, headers={"Cache-Control": "public, max-age=1"})


@router.get("/key", response_class=PlainTextResponse)
def key(app: State) -> PlainTextResponse:
    """The checkpoint verifier key, C2SP `name+keyid+base64` form."""
    return PlainTextResponse(app.runtime.public_log.verifier_key() + "\n")


@router.get("/keyring")
def keyring(app: State) -> dict[str, object]:
    """The public key ring: every records and checkpoints key with its validity window."""
    return app.runtime.store.signing.keyring.to_json()


@router.get("/entries", response_model=Entries)
def entries(
    app: State,
    start: Annotated[int, Query(ge=0, le=2**53)],
    end: Annotated[int, Query(ge=1, le=2**53)],
) -> object:
    """Entries `[start, end)` in order (at most 1,000; page on)."""
    found = app.runtime.public_log.entries(start, end)
    return {"entries": [{"index": e.index, "leaf_data": _b64(e.leaf_data)} for e in found]}


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
