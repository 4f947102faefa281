"""Public credential routes: the issuer's DID document, signed credentials, status lists."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ledger.api.deps import AppState, State
from ledger.api.language import mark, page_language
from ledger.api.models import Entries
from ledger.api.problems import Problem
from ledger.api.renders import RenderRefused
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.ops import RENDERS
from ledger.credentials.bundle import proof_bundle
from ledger.credentials.pdf import certificate_pdf
from ledger.credentials.service import Credentials
from ledger.credentials.status_list import StatusListError
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError

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
    """A printable A4 certificate with a QR code opening its verification page, marked with
    its status when it is not valid today, in the language of the pages (`?lang=`, the `lang`
    cookie, `Accept-Language`)."""
    normal = _normal(certificate_id)
    language = page_language(request)
    now = app.runtime.clock.now()

    def render() -> bytes:
        facts = app.runtime.queries.certificate_facts(normal)
        if facts is None:
            raise _unknown(normal)
        url = f"{app.runtime.settings.public_url}/verify/{normal}"
        holder = _credentials(app).holder(facts["holder"])
        fingerprint = app.runtime.trust_root().short_fingerprint
        return certificate_pdf(
            facts,
            holder.name,
            url,
            fingerprint,
            produced=now,
            language=language,
            name_unavailable=holder.unavailable,
        )

    # One render per language (six, a bounded metric label), log state and day: the status
    # printed on it is the status of the day it is produced.
    day = now.date().isoformat()
    response = Response(
        _rendered(app, request, f"pdf-{language}", f"{normal}@{day}", render),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{normal}.pdf"'},
    )
    return mark(response, request, language)


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
    found = proof_bundle(app.runtime, normal)
    if found is None:
        raise _unknown(normal)
    return found


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


@router.get("/status-lists/suspension/{list_id}")
def suspension_list(list_id: Annotated[int, Path(ge=1, le=1_000_000)], app: State) -> JSONResponse:
    """The signed BitstringStatusListCredential every credential names (`suspension`: 1 while
    the certificate is suspended or revoked, so any standard verifier refuses it)."""
    return _status_list(app, list_id, "suspension")


@router.get("/status-lists/message/{list_id}")
def status_list(list_id: Annotated[int, Path(ge=1, le=1_000_000)], app: State) -> JSONResponse:
    """A signed BitstringStatusListCredential (`message`: 0 valid, 1 suspended, 2 revoked): the
    precise state, at the same index as in the suspension list of the same id."""
    return _status_list(app, list_id, "message")


def _status_list(app: AppState, list_id: int, purpose: str) -> JSONResponse:
    try:
        found = _credentials(app).status_list(list_id, purpose=purpose)
    except StatusListError as exc:
        raise Problem(404, "not-found", "No such status list", str(exc)) from None
    return JSONResponse(
        found, media_type="application/vc", headers={"Cache-Control": "public, max-age=60"}
    )
