"""The credential in the other forms Open Badges 3.0 defines: a compact VC-JWT, and badge images
(PNG, SVG) with the credential baked in; and each achievement's plain badge image, which the
credentials name as the Achievement's `image`.

Registered before the credentials router: its `/credentials/{certificate_id}` would otherwise
take `/credentials/X.jwt` for a certificate called "X.jwt".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.api.deps import AppState, State
from ledger.api.problems import Problem
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.credentials import _normal, _rendered, _unknown
from ledger.credentials import jwt
from ledger.credentials.badge_art import UnknownKind, badge_png, badge_svg
from ledger.credentials.baking import bake_png, bake_svg
from ledger.credentials.service import Credentials
from ledger.domain.certificates import parse_certificate_id

router = APIRouter(tags=["credentials"], responses=PROBLEMS)

# Like the status lists: a minute, since a suspension changes what the credential says.
CACHE = "public, max-age=60"
ART_CACHE = "public, max-age=86400"  # the same bytes for as long as this version runs
# OB 3.0, "Web Resource": a VC-JWT is served as text/plain (the compact JWS, ASCII).
JWT_MEDIA_TYPE = "text/plain"
PNG = "image/png"
SVG = "image/svg+xml"


def _headers(normal: str, suffix: str) -> dict[str, str]:
    return {
        "Cache-Control": CACHE,
        "Content-Disposition": f'inline; filename="{normal}.{suffix}"',
    }


def _signed(app: AppState, normal: str) -> dict[str, Any]:
    found = Credentials(app.runtime).credential(normal)
    if found is None:
        raise _unknown(normal)
    return found


@router.get(
    "/credentials/{certificate_id}.jwt",
    responses={200: {"content": {JWT_MEDIA_TYPE: {}}}},
    response_class=Response,
)
def credential_jwt(certificate_id: str, request: Request, app: State) -> Response:
    """The credential as a compact VC-JWT (JWS, EdDSA): its `kid` names the key in the issuer's
    DID document, its payload is the credential (without the embedded proofs) with iss, jti,
    nbf and exp."""
    normal = _normal(certificate_id)

    def render() -> bytes:
        signer = app.runtime.store.signing.signer_at(app.runtime.clock.now())
        found = _signed(app, normal)
        method = Credentials(app.runtime).issuer.method(signer.kid)
        if jwt.verification_method(found) != method:  # the key rotated between the two reads
            raise Problem(
                503,
                "key-rotating",
                "The signing key is changing",
                "the issuer's signing key changed while signing; ask again",
                headers={"Retry-After": "1"},
            )
        return jwt.encode(found, signer.private_key).encode("ascii")

    return Response(
        _rendered(app, request, "jwt", normal, render),
        media_type=JWT_MEDIA_TYPE,
        headers=_headers(normal, "jwt"),
    )


def _baked(
    app: AppState,
    request: Request,
    certificate_id: str,
    suffix: str,
    art: Callable[[str], bytes],
    bake: Callable[[bytes, dict[str, Any]], bytes],
) -> tuple[bytes, str]:
    normal = _normal(certificate_id)
    kind = parse_certificate_id(normal)[0]

    def render() -> bytes:
        return bake(art(str(kind)), _signed(app, normal))

    return _rendered(app, request, suffix, normal, render), normal


@router.get(
    "/credentials/{certificate_id}.png",
    responses={200: {"content": {PNG: {}}}},
    response_class=Response,
)
def credential_png(certificate_id: str, request: Request, app: State) -> Response:
    """The badge of the certificate's kind as a PNG with the signed credential baked in (an
    `iTXt` chunk `openbadgecredential` holding the JSON credential with its proofs)."""
    body, normal = _baked(app, request, certificate_id, "png", badge_png, bake_png)
    return Response(body, media_type=PNG, headers=_headers(normal, "png"))


@router.get(
    "/credentials/{certificate_id}.svg",
    responses={200: {"content": {SVG: {}}}},
    response_class=Response,
)
def credential_svg(certificate_id: str, request: Request, app: State) -> Response:
    """The badge of the certificate's kind as an SVG with the signed credential baked in (an
    `<openbadges:credential>` element holding the JSON credential with its proofs)."""
    body, normal = _baked(app, request, certificate_id, "svg", badge_svg, bake_svg)
    return Response(body, media_type=SVG, headers=_headers(normal, "svg"))


def _art(kind: str, draw: Callable[[str], bytes]) -> bytes:
    try:
        return draw(kind)
    except UnknownKind:
        raise Problem(
            404, "unknown-achievement", "No such achievement", f"no achievement {kind!r}"
        ) from None


@router.get(
    "/achievements/{kind}/badge.png",
    responses={200: {"content": {PNG: {}}}},
    response_class=Response,
)
def achievement_png(kind: str) -> Response:
    """The achievement's badge image (400 x 400 PNG), without any credential in it."""
    return Response(_art(kind, badge_png), media_type=PNG, headers={"Cache-Control": ART_CACHE})


@router.get(
    "/achievements/{kind}/badge.svg",
    responses={200: {"content": {SVG: {}}}},
    response_class=Response,
)
def achievement_svg(kind: str) -> Response:
    """The achievement's badge image as SVG, without any credential in it."""
    return Response(_art(kind, badge_svg), media_type=SVG, headers={"Cache-Control": ART_CACHE})
