"""Who is signed in to the console, and what every console route depends on.

Pages declare what they need as `Annotated` aliases: `User` (any signed-in staff), a role
alias (`Registrar`, `Committee`, `Tutor`, `Staff`, `Admin`), and `Form` (the posted form, after
its CSRF token was checked against the session). Not signed in: a 303 to the sign-in page,
which comes back afterwards. Wrong role: a 403 page. A form without its session's token: a
403 page, and nothing was written. Post/Redirect/Get with `flash` and `redirect`."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import ip_address
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.api.auth import FailureLimiter
from ledger.config import Network, Settings
from ledger.console import csrf
from ledger.console.accounts import Account, Accounts
from ledger.console.invitations import Invitations
from ledger.console.session_store import Sessions
from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime

COOKIE = "ledger_session"
FORM_COOKIE = "ledger_form"  # the double-submit secret of the forms shown before sign-in
COOKIE_PATH = "/console"
SIGN_IN = "/console/sign-in"
EXPIRED_FORM = (
    "This form has expired or did not come from this console. Nothing was saved."
    " Go back, reload the page and try again."
)

ADMIN, REGISTRAR, TUTOR, COMMITTEE, AUDITOR = (
    Role.ADMIN,
    Role.REGISTRAR,
    Role.TUTOR,
    Role.COMMITTEE,
    Role.AUDITOR,
)


@dataclass(frozen=True)
class ConsoleUser:
    staff_id: str  # "staff-" + 16 hex, as API tokens' pseudonyms
    role: Role
    person_id: str | None  # tutors and committee members act as their person (R3, R10, R11)
    name: str  # the username shown in the header

    @property
    def actor(self) -> Actor:
        """What acts record: tutors and committee members as their person (the rules compare
        person ids), other staff as their pseudonymous staff id, never their username."""
        return Actor(self.person_id or self.staff_id, self.role)

    @classmethod
    def of(cls, account: Account) -> ConsoleUser:
        return cls(account.staff_id, account.role, account.person_id, account.username)


# --- the console's stores, one set per application ---------------------------------------------


@dataclass
class Gate:
    """The accounts, invitations and sessions of one running application, and its limit on
    failed sign-ins per client."""

    settings: Settings
    accounts: Accounts
    invitations: Invitations
    sessions: Sessions
    limiter: FailureLimiter

    @classmethod
    def open(cls, runtime: Runtime) -> Gate:
        now = runtime.clock.now
        settings = runtime.settings
        accounts = Accounts(runtime.db, now)
        return cls(
            settings=settings,
            accounts=accounts,
            invitations=Invitations(runtime.db, accounts, now),
            sessions=Sessions(
                runtime.db, timedelta(minutes=settings.console_idle_minutes), now=now
            ),
            limiter=FailureLimiter(settings.auth_failures_per_minute),
        )


_gate_lock = threading.Lock()


def gate(request: Request) -> Gate:
    """The application's gate, made on first use (its tables are created then)."""
    found: Gate | None = getattr(request.app.state, "console_gate", None)
    if found is None:
        with _gate_lock:
            found = getattr(request.app.state, "console_gate", None)
            if found is None:
                found = Gate.open(request.app.state.ledger.runtime)
                request.app.state.console_gate = found
    return found


Gatekeeper = Annotated[Gate, Depends(gate)]


# --- refusals -----------------------------------------------------------------------------------


class ConsoleRefusal(StarletteHTTPException):
    """A console answer other than the page: a redirect to sign in, or a refusal page.

    `console_refusal` draws it as HTML; an HTTPException, so that without that handler the
    status and Location still reach the browser."""

    def __init__(
        self, status: int, message: str, *, title: str = "", location: str | None = None
    ) -> None:
        headers = {"Cache-Control": "no-store"}
        if location is not None:
            headers["Location"] = location
        super().__init__(status, message, headers=headers)
        self.message = message
        self.title = title or message


async def console_refusal(request: Request, exc: Exception) -> Response:
    """The HTML answer of a ConsoleRefusal (register with `app.add_exception_handler`)."""
    from ledger.console.frame import render

    assert isinstance(exc, ConsoleRefusal)
    headers = exc.headers or {}
    if "Location" in headers:
        return RedirectResponse(headers["Location"], status_code=exc.status_code, headers=headers)
    page = render(
        request,
        "access_refused.html",
        title=exc.title,
        status=exc.status_code,
        message=exc.message,
    )
    return page


def sign_in_location(request: Request) -> str:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return f"{SIGN_IN}?next={quote(target, safe='/')}"


def local_target(target: str | None) -> str:
    """Where to go after signing in: only a console path of this site (never another site,
    `//evil.example` or `/\\evil.example` included)."""
    if (
        not target
        or not target.startswith("/console")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\\\r\n")
        or target.startswith(SIGN_IN)
    ):
        return "/console"
    return target


# --- the signed-in user ---------------------------------------------------------------------------


def signed_in(request: Request, found: Gatekeeper) -> ConsoleUser:
    """The signed-in staff member (their session's idle clock restarts); otherwise a 303 to
    the sign-in page, which brings them back here."""
    session_id = request.cookies.get(COOKIE, "")
    session = found.sessions.find(session_id) if session_id else None
    account = None if session is None else found.accounts.by_staff_id(session.staff_id)
    if session is None or account is None or account.disabled:
        raise ConsoleRefusal(303, "Sign in to continue", location=sign_in_location(request))
    user = ConsoleUser.of(account)
    request.state.console_user = user
    request.state.console_session = session.id
    request.state.csrf_token = csrf.token_for(session.id)
    if request.method in ("GET", "HEAD"):
        request.state.flashes = found.sessions.take_flashes(session.id)
    return user


User = Annotated[ConsoleUser, Depends(signed_in)]


@dataclass(frozen=True)
class Allow:
    """A dependency admitting signed-in staff of `roles` only (a 403 page for others)."""

    roles: tuple[Role, ...]

    def __call__(self, user: User) -> ConsoleUser:
        if user.role not in self.roles:
            raise ConsoleRefusal(
                403,
                f"This page is not open to the {user.role} role.",
                title="Not open to your role",
            )
        return user


def roles(*allowed: Role) -> Any:
    return Allow(tuple(allowed))


Registrar = Annotated[ConsoleUser, Depends(roles(ADMIN, REGISTRAR))]
Committee = Annotated[ConsoleUser, Depends(roles(COMMITTEE))]
Tutor = Annotated[ConsoleUser, Depends(roles(TUTOR))]
Staff = Annotated[ConsoleUser, Depends(roles(ADMIN, REGISTRAR, TUTOR, COMMITTEE))]
Admin = Annotated[ConsoleUser, Depends(roles(ADMIN))]


# --- posted forms ---------------------------------------------------------------------------------


class FormFields:
    """A posted form's fields (text) and files (bytes, read whole)."""

    def __init__(self, fields: Sequence[tuple[str, str]], files: dict[str, bytes]) -> None:
        self._fields = list(fields)
        self._files = files

    def get(self, name: str, default: str = "") -> str:
        for key, value in self._fields:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._fields if key == name]

    def file(self, name: str) -> bytes | None:
        return self._files.get(name)

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self._fields) or name in self._files


async def read_form(request: Request) -> FormFields:
    form: FormData = await request.form()
    fields: list[tuple[str, str]] = []
    files: dict[str, bytes] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in files:
                files[key] = await value.read()
            await value.close()
        else:
            fields.append((key, value))
    return FormFields(fields, files)


async def checked_form(request: Request, user: User) -> FormFields:
    """The posted form, once its CSRF token matched the session's (constant-time compare)."""
    form = await read_form(request)
    session_id: str = getattr(request.state, "console_session", "")
    if not csrf.matches(session_id, form.get(csrf.FIELD) or None):
        raise ConsoleRefusal(403, EXPIRED_FORM, title="This form has expired")
    return form


Form = Annotated[FormFields, Depends(checked_form)]


# --- Post/Redirect/Get ---------------------------------------------------------------------------


def flash(request: Request, message: str) -> None:
    """A message shown once on the signed-in user's next page (stored encrypted)."""
    session_id: str = getattr(request.state, "console_session", "")
    if session_id:
        gate(request).sessions.add_flash(session_id, message)


def redirect(path: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs `path` (Post/Redirect/Get)."""
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


# --- cookies --------------------------------------------------------------------------------------


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def is_https(request: Request, proxies: Sequence[Network]) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through one of our own proxies
    saying so (X-Forwarded-Proto from anyone else proves nothing)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    if not _trusted(peer, proxies):
        return False
    said = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return said == "https"


def set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str
) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, Path=/console, Secure over HTTPS; a
    browser-session cookie (the server ends the session on its own clock)."""
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request, settings.trusted_proxies),
    )


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request, settings.trusted_proxies),
    )
