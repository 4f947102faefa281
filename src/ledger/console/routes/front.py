"""The front door (`/`): for anyone holding a certificate id, a box to check it (typing errors
forgiven as `/verify` forgives them), the public register, and the staff sign-in. Nothing
personal is shown or asked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.api.deps import State
from ledger.api.language import page_language
from ledger.console import public_text as public
from ledger.console.frame import FieldError, render
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError

router = APIRouter()

EXAMPLE_ID = "LT-7KQ2-M9XD-3FHW"
LONGEST_ID = 64
"""Longer text is no certificate id, however many spaces it holds; it is not parsed."""


def front_page(request: Request, typed: str = "", problem: str | None = None) -> HTMLResponse:
    """The front door, in the reader's language (`problem` already is)."""
    errors = [FieldError("certificate_id", problem)] if problem else []
    return render(
        request,
        "front_index.html",
        title=public.say(page_language(request), public.CHECK_TITLE),
        status=422 if problem else 200,
        errors=errors,
        typed=typed,
        example=EXAMPLE_ID,
    )


@router.get("/", response_class=HTMLResponse)
def front_door(request: Request) -> HTMLResponse:
    """The page for everyone: check a certificate, see the register, or sign in (staff)."""
    return front_page(request)


def problem_with(app: State, typed: str, language: str = "en") -> tuple[str | None, str]:
    """(the problem with the typed id in `language`, or None; the id as written on
    certificates)."""
    text = typed.strip()
    if not text:
        return public.say(language, public.NO_ID), text
    if len(text) > LONGEST_ID:
        return public.say(language, public.TOO_LONG, example=EXAMPLE_ID), text
    try:
        _, normal = parse_certificate_id(text)
    except DomainError as refusal:
        if "check character" in str(refusal):
            return public.say(language, public.TYPING_ERROR), text
        return public.say(language, public.NOT_AN_ID, example=EXAMPLE_ID), text
    if app.runtime.queries.certificate_facts(normal) is None:
        return public.say(language, public.UNKNOWN_ID, id=normal), normal
    return None, normal


@router.get("/check", response_class=HTMLResponse)
def check(request: Request, app: State, certificate_id: str = "") -> Response:
    """The front door's form: to the certificate's verification page (303), or the page
    again with what is wrong with the id typed."""
    problem, normal = problem_with(app, certificate_id, page_language(request))
    if problem is None:
        return RedirectResponse(f"/verify/{normal}", status_code=303)
    return front_page(request, certificate_id[:LONGEST_ID], problem)
