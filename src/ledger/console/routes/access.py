"""Console pages: signing in (password, then the second factor if the account has one),
signing out, and accepting an invitation (choose a password, optionally a second factor).

Every refusal of a sign-in reads the same ("The username or password is wrong, or the account
is locked for a while"), whether the username is unknown, the password wrong, the account
locked out or disabled: the page reveals nothing about which accounts exist. Failures count
against the account tried (`ledger.console.lockout`) and against the client's address."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ledger.api.deps import State
from ledger.api.language import page_language
from ledger.console import csrf, public_text, totp
from ledger.console.accounts import MIN_PASSWORD, AccountError
from ledger.console.frame import FieldError, render
from ledger.console.invitations import InvitationError
from ledger.console.session import (
    COOKIE,
    EXPIRED_FORM,
    FORM_COOKIE,
    SIGN_IN,
    Form,
    Gate,
    Gatekeeper,
    clear_cookie,
    local_target,
    read_form,
    redirect,
    set_cookie,
)
from ledger.console.session_store import AWAITING_CODE, Session
from ledger.i18n import long_day

router = APIRouter()
P = ParamSpec("P")
T = TypeVar("T")

WRONG = public_text.WRONG
WRONG_CODE = public_text.WRONG_CODE
CODE_PAGE = "/console/sign-in/code"


def _form_secret(request: Request) -> tuple[str, bool]:
    """The double-submit secret of the forms shown before sign-in: (secret, is it new)."""
    found = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(found) <= 100:
        return found, False
    return secrets.token_urlsafe(32), True


def _anonymous_page(
    request: Request,
    found: Gate,
    template: str,
    *,
    title: str,
    status: int = 200,
    errors: list[FieldError] | None = None,
    **context: object,
) -> HTMLResponse:
    """A page with a form for someone not signed in yet, carrying the form cookie's token; its
    title and errors (English messages of `public_text`) in the reader's language."""
    secret, new = _form_secret(request)
    request.state.csrf_token = csrf.token_for(secret)
    language = page_language(request)
    page = render(
        request,
        template,
        title=public_text.known(language, title),
        status=status,
        errors=_translated(language, errors or ()),
        **context,
    )
    if new:
        set_cookie(page, request, found.settings, FORM_COOKIE, secret)
    return page


def _translated(language: str, errors: Sequence[FieldError]) -> list[FieldError]:
    return [FieldError(error.field, public_text.known(language, error.message)) for error in errors]


def _too_many(request: Request, wait: int) -> str:
    language = page_language(request)
    return public_text.say(language, public_text.TOO_MANY, wait=public_text.wait_of(language, wait))


def _anonymous_form_ok(request: Request, posted: str) -> bool:
    return csrf.matches(request.cookies.get(FORM_COOKIE) or None, posted or None)


def _signed_in(
    request: Request, found: Gate, staff_id: str, target: str, ending: str | None = None
) -> Response:
    """Start the session of a staff member who has proved who they are: always a new session
    id (any session the browser held before ends), and sessions past their time are swept."""
    for old in {ending, request.cookies.get(COOKIE)}:
        if old:
            found.sessions.end(old)
    found.sessions.sweep()
    found.accounts.record_success(staff_id)
    session = found.sessions.start(staff_id)
    response = redirect(local_target(target))
    set_cookie(response, request, found.settings, COOKIE, session.id)
    return response


# --- signing in ---------------------------------------------------------------------------------


def _sign_in_page(
    request: Request,
    found: Gate,
    *,
    target: str,
    username: str = "",
    status: int = 200,
    errors: list[FieldError] | None = None,
    notice: str = "",
) -> HTMLResponse:
    return _anonymous_page(
        request,
        found,
        "access_sign_in.html",
        title=public_text.SIGN_IN_TITLE,
        status=status,
        errors=errors,
        target=local_target(target),
        username=username,
        notice=public_text.known(page_language(request), notice) if notice else "",
    )


NOTICES = {
    "signed-out": public_text.SIGNED_OUT,
    "ready": public_text.READY,
    "expired": public_text.TIMED_OUT,
}


@router.get(SIGN_IN)
def sign_in_page(
    request: Request, found: Gatekeeper, next: str = "", notice: str = ""
) -> HTMLResponse:
    return _sign_in_page(request, found, target=next, notice=NOTICES.get(notice, ""))


@router.post(SIGN_IN)
async def sign_in(request: Request, found: Gatekeeper, app: State) -> Response:
    form = await read_form(request)
    target = form.get("next")
    username = form.get("username").strip()
    if not _anonymous_form_ok(request, form.get(csrf.FIELD)):
        return _sign_in_page(
            request,
            found,
            target=target,
            username=username,
            status=403,
            errors=[FieldError("username", EXPIRED_FORM)],
        )
    client = app.client(request)
    wait = found.limiter.retry_after(client)
    if wait:
        return _sign_in_page(
            request,
            found,
            target=target,
            username=username,
            status=429,
            errors=[FieldError("username", _too_many(request, wait))],
        )
    account = await _run(found.accounts.check_password, username, form.get("password"))
    if account is None:
        found.limiter.fail(client)
        return _sign_in_page(
            request,
            found,
            target=target,
            username=username,
            status=401,
            errors=[FieldError("username", WRONG)],
        )
    if account.has_totp:
        pending = found.sessions.start(account.staff_id, stage=AWAITING_CODE)
        response = redirect(f"{CODE_PAGE}?next={quote(local_target(target), safe='/')}")
        set_cookie(response, request, found.settings, COOKIE, pending.id)
        return response
    return _signed_in(request, found, account.staff_id, target)


async def _run(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Password hashing is deliberately slow: run it off the event loop."""
    return await run_in_threadpool(function, *args, **kwargs)


# --- the second factor -------------------------------------------------------------------------


def _pending(request: Request, found: Gate) -> Session | None:
    return found.sessions.find(request.cookies.get(COOKIE, ""), stage=AWAITING_CODE)


def _code_page(
    request: Request,
    session: Session,
    target: str,
    status: int = 200,
    errors: list[FieldError] | None = None,
) -> HTMLResponse:
    request.state.csrf_token = csrf.token_for(session.id)
    language = page_language(request)
    return render(
        request,
        "access_code.html",
        title=public_text.say(language, public_text.CODE_TITLE),
        status=status,
        errors=_translated(language, errors or ()),
        target=local_target(target),
    )


@router.get(CODE_PAGE)
def code_page(request: Request, found: Gatekeeper, next: str = "") -> Response:
    session = _pending(request, found)
    if session is None:
        return redirect(SIGN_IN)
    return _code_page(request, session, next)


@router.post(CODE_PAGE)
async def code(request: Request, found: Gatekeeper, app: State) -> Response:
    form = await read_form(request)
    target = form.get("next")
    session = _pending(request, found)
    if session is None:
        return redirect(SIGN_IN)
    if not csrf.matches(session.id, form.get(csrf.FIELD) or None):
        return _code_page(request, session, target, 403, [FieldError("code", EXPIRED_FORM)])
    client = app.client(request)
    wait = found.limiter.retry_after(client)
    if wait:
        message = _too_many(request, wait)
        return _code_page(request, session, target, 429, [FieldError("code", message)])
    if not await _run(found.accounts.check_code, session.staff_id, form.get("code")):
        found.limiter.fail(client)
        return _code_page(request, session, target, 401, [FieldError("code", WRONG_CODE)])
    return _signed_in(request, found, session.staff_id, target, ending=session.id)


# --- signing out --------------------------------------------------------------------------------


@router.post("/console/sign-out")
def sign_out(request: Request, form: Form, found: Gatekeeper) -> Response:
    found.sessions.end(request.state.console_session)
    response = redirect(f"{SIGN_IN}?notice=signed-out")
    clear_cookie(response, request, found.settings, COOKIE)
    return response


# --- accepting an invitation ----------------------------------------------------------------------


def _invitation_page(
    request: Request,
    found: Gate,
    token: str,
    *,
    username: str,
    secret: str,
    status: int = 200,
    errors: list[FieldError] | None = None,
) -> HTMLResponse:
    invitation = found.invitations.find(token)
    shown = username or invitation.username or ""
    language = page_language(request)
    return _anonymous_page(
        request,
        found,
        "access_invitation.html",
        title=public_text.INVITATION_TITLE,
        status=status,
        errors=errors,
        invitation=invitation,
        role=public_text.role_name(language, invitation.role),
        until=f"{long_day(invitation.expires_at, language)}, {invitation.expires_at:%H:%M}",
        username=shown,
        secret=secret,
        qr=totp.qr_svg(secret, shown or "ledger staff"),
        min_password=MIN_PASSWORD,
    )


def _invitation_closed(request: Request, found: Gate, reason: str) -> HTMLResponse:
    return _anonymous_page(
        request,
        found,
        "access_invitation_closed.html",
        title=reason,
        status=410,
        reason=public_text.known(page_language(request), reason),
    )


@router.get("/console/invitation/{token}")
def invitation_page(request: Request, token: str, found: Gatekeeper) -> HTMLResponse:
    try:
        return _invitation_page(request, found, token, username="", secret=totp.new_secret())
    except InvitationError as exc:
        return _invitation_closed(request, found, str(exc))


@router.post("/console/invitation/{token}")
async def accept_invitation(request: Request, token: str, found: Gatekeeper) -> Response:
    form = await read_form(request)
    username = form.get("username").strip()
    password = form.get("password")
    secret = form.get("totp_secret")
    if not _valid_secret(secret):
        secret = totp.new_secret()
    try:
        if not _anonymous_form_ok(request, form.get(csrf.FIELD)):
            return _invitation_page(
                request,
                found,
                token,
                username=username,
                secret=secret,
                status=403,
                errors=[FieldError("username", EXPIRED_FORM)],
            )
        problems = _invitation_problems(
            form.get("password"), form.get("confirm"), secret, form.get("code"), found
        )
        if problems:
            return _invitation_page(
                request,
                found,
                token,
                username=username,
                secret=secret,
                status=422,
                errors=problems,
            )
        enrolled = secret if form.get("code").strip() else None
        await _run(found.invitations.accept, token, username, password, enrolled)
    except InvitationError as exc:
        return _invitation_closed(request, found, str(exc))
    except AccountError as exc:
        return _invitation_page(
            request,
            found,
            token,
            username=username,
            secret=secret,
            status=422,
            errors=[FieldError(exc.field, str(exc))],
        )
    return redirect(f"{SIGN_IN}?notice=ready")


def _valid_secret(secret: str) -> bool:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return 16 <= len(secret) <= 64 and all(c in alphabet for c in secret)


def _invitation_problems(
    password: str, confirm: str, secret: str, code: str, found: Gate
) -> list[FieldError]:
    problems = []
    if password != confirm:
        problems.append(FieldError("confirm", public_text.NOT_SAME))
    if code.strip() and totp.matching_step(secret, code, found.accounts.now(), None) is None:
        problems.append(FieldError("code", public_text.CODE_MISMATCH))
    return problems
