"""Public credential routes: the issuer's DID document, signed credentials, status lists."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response

from ledger.api.deps import State
from ledger.api.problems import Problem
from ledger.api.routes.commands import PROBLEMS
from ledger.credentials.pdf import certificate_pdf
from ledger.credentials.service import Credentials
from ledger.credentials.status_list import StatusListError
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError

router = APIRouter(tags=["credentials"], responses=PROBLEMS)


def _credentials(app: State) -> Credentials:
    return Credentials(app.runtime)


@router.get("/.well-known/did.json")
def did_document(app: State) -> JSONResponse:
    """The issuer's did:web document: its Multikey keys, with the issuer as controller."""
    return JSONResponse(_credentials(app).issuer.did_document(), media_type="application/did+json")


@router.get(
    "/credentials/{certificate_id}.pdf",
    responses={200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
def credential_pdf(certificate_id: str, app: State) -> Response:
    """A printable A4 certificate with a QR code opening its verification page."""
    credentials = _credentials(app)
    try:
        _, normal = parse_certificate_id(certificate_id)
    except DomainError as exc:
        raise Problem(404, "unknown-certificate", "No such certificate", str(exc)) from None
    facts = app.runtime.queries.certificate_facts(normal)
    if facts is None:
        raise Problem(404, "unknown-certificate", "No such certificate", f"no certificate {normal}")
    url = f"{app.runtime.settings.public_url}/verify/{normal}"
    document = certificate_pdf(facts, credentials.holder_name(facts["holder"]), url)
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{normal}.pdf"'},
    )


@router.get("/credentials/{certificate_id}", responses={200: {"content": {"application/vc": {}}}})
def credential(certificate_id: str, app: State) -> JSONResponse:
    """The certificate as a signed Open Badges 3.0 / W3C VC 2.0 credential."""
    try:
        _, normal = parse_certificate_id(certificate_id)
    except DomainError as exc:
        raise Problem(404, "unknown-certificate", "No such certificate", str(exc)) from None
    found = _credentials(app).credential(normal)
    if found is None:
        raise Problem(404, "unknown-certificate", "No such certificate", f"no certificate {normal}")
    return JSONResponse(found, media_type="application/vc")


@router.get("/credentials/{certificate_id}/bundle")
def credential_bundle(certificate_id: str, app: State) -> JSONResponse:
    """Everything to verify the credential offline (`ledger verify FILE --bundle DIR`)."""
    from ledger.api.routes.verify import verify_answer

    credentials = _credentials(app)
    try:
        _, normal = parse_certificate_id(certificate_id)
    except DomainError as exc:
        raise Problem(404, "unknown-certificate", "No such certificate", str(exc)) from None
    answer = verify_answer(app.runtime, normal, app.runtime.clock.now().date(), None)
    if answer is None or answer["kind"] is None:
        raise Problem(404, "unknown-certificate", "No such certificate", f"no certificate {normal}")
    entry = credentials.entries.entry(normal)
    log = answer["log"]
    if log is not None:
        leaf = app.runtime.public_log.entries(log["position"], log["position"] + 1)[0]
        log = {
            "position": log["position"],
            "proof": log["proof"],
            "checkpoint": log["checkpoint"]["note"],
            "leaf_data": base64.b64encode(leaf.leaf_data).decode(),
        }
    return JSONResponse(
        {
            "did_document": credentials.issuer.did_document(),
            "status_lists": {
                credentials.issuer.status_list_url(entry.list_id): credentials.status_list(
                    entry.list_id
                )
            },
            "keyring": app.runtime.store.signing.keyring.to_json(),
            "log": log,
        }
    )


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
