"""The front door (`/`): for anyone holding a certificate id, a box to check it (typing errors
forgiven as `/verify` forgives them), the public register, and the staff sign-in. Nothing
personal is shown or asked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.api.deps import State
from ledger.console.frame import FieldError, render
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError

router = APIRouter()

EXAMPLE_ID = "LT-7KQ2-M9XD-3FHW"
LONGEST_ID = 64
"""Longer text is no certificate id, however many spaces it holds; it is not parsed."""


def front_page(request: Request, typed: str = "", problem: str | None = None) -> HTMLResponse:
    errors = [FieldError("certificate_id", problem)] if problem else []
    return render(
        request,
        "front_index.html",
        title="Check a certificate",
        status=422 if problem else 200,
        errors=errors,
        typed=typed,
        example=EXAMPLE_ID,
    )


@router.get("/", response_class=HTMLResponse)
def front_door(request: Request) -> HTMLResponse:
    """The page for everyone: check a certificate, see the register, or sign in (staff)."""
    return front_page(request)


def problem_with(app: State, typed: str) -> tuple[str | None, str]:
    """(the problem with the typed id, or None; the id as written on certificates)."""
    text = typed.strip()
    if not text:
        return "Enter a certificate id", text
    if len(text) > LONGEST_ID:
        return f"Enter a certificate id, like {EXAMPLE_ID}", text
    try:
        _, normal = parse_certificate_id(text)
    except DomainError as refusal:
        if "check character" in str(refusal):
            return (
                "This certificate id has a typing error: compare each character with the"
                " certificate",
                text,
            )
        return (
            f"Enter a certificate id like {EXAMPLE_ID}: two letters, then twelve letters or digits",
            text,
        )
    if app.runtime.queries.certificate_facts(normal) is None:
        return f"There is no certificate {normal} in this ledger: check the id", normal
    return None, normal


@router.get("/check", response_class=HTMLResponse)
def check(request: Request, app: State, certificate_id: str = "") -> Response:
    """The front door's form: to the certificate's verification page (303), or the page
    again with what is wrong with the id typed."""
    problem, normal = problem_with(app, certificate_id)
    if problem is None:
        return RedirectResponse(f"/verify/{normal}", status_code=303)
    return front_page(request, certificate_id[:LONGEST_ID], problem)
