"""Public credential routes: the issuer's DID document, signed credentials, status lists."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ledger.api.deps import AppState, State
from ledger.api.models import Entries
from ledger.api.problems import Problem
from ledger.api.renders import RenderRefused
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.ops import RENDERS
from ledger.credentials.pdf import certificate_pdf
from ledger.credentials.service import Credentials
from ledger.credentials.status_list import StatusListError
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError
from ledger.log.key_proofs import key_history_proofs

router = APIRouter(tags=["credentials"], responses=PROBLEMS)


def _credentials(app: State) -> Credentials:
    return Credentials(app.runtime)


def _rendered(
    app: AppState, request: Request, kind: str, certificate_id: str, render: Callable[[], bytes]
) -> bytes:
    """`render()` once per state of the log (its size and its newest checkpoint's size), and
    only within the client's budget of fresh renders (else 429)."""
    latest = app.runtime.public_log.latest_checkpoint()
    key = (kind, certificate_id, app.runtime.public_log.size(), latest.size if latest else 0)
    try:
        return app.renders.answer(key, app.client(request), render, RENDERS.labels(kind).inc)
    except RenderRefused as exc:
        raise Problem(
            429,
            "too-many-renders",
            "Too many fresh documents",
            str(exc),
            headers={"Retry-After": str(exc.retry_after)},
        ) from None


def _json(content: Any) -> bytes:
    return bytes(JSONResponse(content).body)


def _normal(certificate_id: str) -> str:
    try:
        return parse_certificate_id(certificate_id)[1]
    except DomainError as exc:
        raise Problem(404, "unknown-certificate", "No such certificate", str(exc)) from None


def _unknown(normal: str) -> Problem:
    return Problem(404, "unknown-certificate", "No such certificate", f"no certificate {normal}")


@router.get("/.well-known/did.json")
def did_document(app: State) -> JSONResponse:
    """The issuer's did:web document: its Multikey keys, with the issuer as controller."""
    return JSONResponse(_credentials(app).issuer.did_document(), media_type="application/did+json")


@router.get(
    "/credentials/{certificate_id}.pdf",
    responses={200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def credential_pdf(certificate_id: str, request: Request, app: State) -> Response:
    """A printable A4 certificate with a QR code opening its verification page."""
    normal = _normal(certificate_id)

    def render() -> bytes:
        facts = app.runtime.queries.certificate_facts(normal)
        if facts is None:
            raise _unknown(normal)
        url = f"{app.runtime.settings.public_url}/verify/{normal}"
        holder = _credentials(app).holder_name(facts["holder"])
        return certificate_pdf(facts, holder, url, app.runtime.trust_root().short_fingerprint)

    return Response(
        _rendered(app, request, "pdf", normal, render),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{normal}.pdf"'},
    )


@router.get("/credentials/{certificate_id}", responses={200: {"content": {"application/vc": {}}}})
def credential(certificate_id: str, request: Request, app: State) -> Response:
    """The certificate as a signed Open Badges 3.0 / W3C VC 2.0 credential."""
    normal = _normal(certificate_id)

    def render() -> bytes:
        found = _credentials(app).credential(normal)
        if found is None:
            raise _unknown(normal)
        return _json(found)

    return Response(
        _rendered(app, request, "credential", normal, render), media_type="application/vc"
    )


@router.get("/credentials/{certificate_id}/bundle")
def credential_bundle(certificate_id: str, request: Request, app: State) -> Response:
    """Everything to verify the credential offline (`ledger verify FILE --bundle DIR`)."""
    normal = _normal(certificate_id)
    return Response(
        _rendered(app, request, "bundle", normal, lambda: _json(_bundle(app, normal))),
        media_type="application/json",
    )


def _bundle(app: AppState, normal: str) -> dict[str, Any]:
    from ledger.api.routes.verify import verify_answer

    credentials = Credentials(app.runtime)
    answer = verify_answer(app.runtime, normal, app.runtime.clock.now().date(), None)
    if answer is None or answer["kind"] is None:
        raise _unknown(normal)
    entry = credentials.entries.entry(normal)
    log = answer["log"]
    history: list[dict[str, Any]] = []
    if log is not None:
        public = app.runtime.public_log
        leaf = public.entries(log["position"], log["position"] + 1)[0]
        size = int(log["checkpoint"]["size"])
        log = {
            "position": log["position"],
            "proof": log["proof"],
            "checkpoint": log["checkpoint"]["note"],
            "leaf_data": base64.b64encode(leaf.leaf_data).decode(),
        }
        history = key_history_proofs(app.runtime.log_storage, public, size)
    return {
        "did_document": credentials.issuer.did_document(),
        "status_lists": {
            credentials.issuer.status_list_url(entry.list_id): credentials.status_list(
                entry.list_id
            )
        },
        "keyring": app.runtime.store.signing.keyring.to_json(),
        "log": log,
        "key_history": history,
    }


def evidence_positions(facts: dict[str, Any]) -> set[int]:
    """The log positions of a certificate's own records and of the evidence behind it."""
    found = {position for _, position, *_ in facts["events"]}
    for value in (facts.get("evidence") or {}).values():
        if isinstance(value, int) and not isinstance(value, bool):
            found.add(value)
        elif isinstance(value, list):
            found.update(p for p in value if isinstance(p, int))
            # corrections: {"position", "type", "on", "week", ...} each
            found.update(p["position"] for p in value if isinstance(p, dict) and "position" in p)
        elif isinstance(value, dict):
            found.update(p for p in value.get("positions", []) if isinstance(p, int))
    return found


@router.get("/credentials/{certificate_id}/evidence", response_model=Entries)
def credential_evidence(
    certificate_id: str,
    app: State,
    start: Annotated[int, Query(ge=0, le=2**53)],
    end: Annotated[int, Query(ge=1, le=2**53)],
) -> object:
    """The log entries in `[start, end)` that are this certificate's own records or evidence
    behind it (others in the range are left out): what its holder shares by sharing its id."""
    normal = _normal(certificate_id)
    facts = app.runtime.queries.certificate_facts(normal)
    if facts is None:
        raise _unknown(normal)
    wanted = sorted(p for p in evidence_positions(facts) if start <= p < end)
    found = [e for p in wanted for e in app.runtime.public_log.entries(p, p + 1)]
    return {
        "entries": [
            {"index": e.index, "leaf_data": base64.b64encode(e.leaf_data).decode()} for e in found
        ]
    }


@router.get("/status-lists/message/{list_id}")
def status_list(list_id: Annotated[int, Path(ge=1, le=1_000_000)], app: State) -> JSONResponse:
    """A signed BitstringStatusListCredential (`message`: 0 valid, 1 suspended, 2 revoked)."""
    try:
        found = _credentials(app).status_list(list_id)
    except StatusListError as exc:
        raise Problem(404, "not-found", "No such status list", str(exc)) from None
    return JSONResponse(
        found, media_type="application/vc", headers={"Cache-Control": "public, max-age=60"}
    )
