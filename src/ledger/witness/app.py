"""The witness's HTTP face (C2SP tlog-witness): `POST /add-checkpoint` and the monitoring read.

Submission and monitoring prefix are both the server's root:

    POST /add-checkpoint              200 cosignature lines (text/plain); 409 the cosigned size
                                      (text/x.tlog.size); 400, 403, 404, 422 problem details
    GET  /<origin hash>/checkpoint    the newest cosigned checkpoint (404 if none)
    GET  /healthz                     liveness
"""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ledger.api.problems import problem_response
from ledger.integrity.tlog_witness import ADD_CHECKPOINT, SIZE_CONTENT_TYPE, format_size
from ledger.witness.core import Refusal, SizeConflict, Witness

MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with many signatures fit easily
_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")
_KINDS = {
    400: "malformed-request",
    403: "bad-signature",
    404: "unknown-log",
    409: "size-conflict",
    422: "inconsistent-checkpoint",
}


def _refused(refusal: Refusal) -> Response:
    if isinstance(refusal, SizeConflict):
        # C2SP: the body is the latest cosigned size, the content type text/x.tlog.size.
        return Response(
            format_size(refusal.cosigned_size),
            status_code=409,
            headers={"Content-Type": SIZE_CONTENT_TYPE},  # exactly this, with no charset
        )
    return problem_response(
        refusal.status, _KINDS.get(refusal.status, "refused"), refusal.title, refusal.detail
    )


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it passes MAX_BODY."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return problem_response(
                413, "too-large", "Request too large", f"the body exceeds {MAX_BODY} bytes"
            )
        try:
            # Signing and the SQLite transaction block; keep them off the event loop.
            cosignatures = await anyio.to_thread.run_sync(witness.add_checkpoint, body)
        except Refusal as refusal:
            return _refused(refusal)
        return Response(cosignatures, media_type="text/plain; charset=utf-8")

    async def checkpoint(request: Request) -> Response:
        hashed = str(request.path_params["origin_hash"])
        note = None
        if _ORIGIN_HASH.fullmatch(hashed):
            note = await anyio.to_thread.run_sync(witness.latest, hashed)
        if note is None:
            return problem_response(
                404, "not-found", "No cosigned checkpoint", "no checkpoint of that log cosigned"
            )
        return PlainTextResponse(note, headers={"Cache-Control": "no-cache"})

    async def healthz(_: Request) -> Response:
        return PlainTextResponse(f"ok {witness.key.name}\n")

    return Starlette(
        routes=[
            Route(ADD_CHECKPOINT, add_checkpoint, methods=["POST"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
