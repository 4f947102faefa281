"""Console pages: staff accounts, for administrators (`/console/staff`): who has an account,
inviting a person in a role (the one-time link is shown once, never stored), and disabling an
account (its sessions end at once)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ledger.api.deps import State
from ledger.console.accounts import AccountError, check_person
from ledger.console.frame import FieldError, render
from ledger.console.invitations import VALID_FOR, invitation_path
from ledger.console.session import Admin, Form, Gate, Gatekeeper, flash, redirect
from ledger.domain.actors import Role
from ledger.domain.errors import DomainError
from ledger.runtime import Runtime

router = APIRouter()

ROLE_OPTIONS = [
    ("registrar", "Registrar"),
    ("tutor", "Tutor (acts as their person)"),
    ("committee", "Certification committee member (acts as their person)"),
    ("admin", "Administrator"),
    ("auditor", "Auditor"),
]
SEARCH_LIMIT = 10


def _names(runtime: Runtime) -> Callable[[str], str]:
    @cache
    def name_of(person_id: str) -> str:
        try:
            return runtime.service.person(person_id).name
        except DomainError:
            return "unknown person"

    return name_of


def _page(
    request: Request,
    app: State,
    found: Gate,
    *,
    q: str = "",
    chosen: dict[str, str] | None = None,
    status: int = 200,
    errors: list[FieldError] | None = None,
) -> HTMLResponse:
    name_of = _names(app.runtime)
    matches = (
        [(pid, name_of(pid)) for pid in app.runtime.people.search(q, SEARCH_LIMIT)]
        if q.strip()
        else []
    )
    return render(
        request,
        "staff_index.html",
        title="Staff accounts",
        status=status,
        errors=errors or (),
        accounts=found.accounts.all(),
        name_of=name_of,
        roles=ROLE_OPTIONS,
        chosen=chosen or {},
        q=q,
        matches=matches,
        valid_days=VALID_FOR.days,
    )


@router.get("/console/staff")
def staff_page(
    request: Request, user: Admin, app: State, found: Gatekeeper, q: str = "", person: str = ""
) -> HTMLResponse:
    return _page(request, app, found, q=q[:200], chosen={"person_id": person[:100]})


@router.post("/console/staff/invitations")
def invite(request: Request, user: Admin, form: Form, app: State, found: Gatekeeper) -> Response:
    chosen = {
        "role": form.get("role"),
        "person_id": form.get("person_id").strip(),
        "username": form.get("username").strip(),
    }
    try:
        role = _role(chosen["role"])
        person_id = check_person(role, chosen["person_id"] or None)
        if person_id is not None:
            _person_exists(app.runtime, person_id)
        token = found.invitations.invite(
            role, person_id, chosen["username"] or None, invited_by=user.staff_id
        )
    except AccountError as exc:
        return _page(
            request,
            app,
            found,
            chosen=chosen,
            status=422,
            errors=[FieldError(exc.field, str(exc))],
        )
    link = app.runtime.settings.public_url + invitation_path(token)
    return render(
        request,
        "staff_invited.html",
        title="Invitation created",
        status=201,
        link=link,
        role=role,
        person=_names(app.runtime)(person_id) if person_id else None,
        username=chosen["username"],
        valid_days=VALID_FOR.days,
    )


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise AccountError("role", "Choose the role of the account") from None


def _person_exists(runtime: Runtime, person_id: str) -> None:
    try:
        runtime.service.person(person_id)
    except DomainError:
        raise AccountError(
            "person_id", "No person has this id; search by name to find it"
        ) from None


@router.get("/console/staff/{staff_id}/disable")
def disable_page(
    request: Request, staff_id: str, user: Admin, app: State, found: Gatekeeper
) -> HTMLResponse:
    account = found.accounts.by_staff_id(staff_id)
    if account is None:
        return render(request, "staff_missing.html", title="No such account", status=404)
    return render(
        request,
        "staff_disable.html",
        title=f"Disable the account {account.username}?",
        account=account,
        mine=account.staff_id == user.staff_id,
    )


@router.post("/console/staff/{staff_id}/disable")
def disable(
    request: Request, staff_id: str, user: Admin, form: Form, app: State, found: Gatekeeper
) -> Response:
    account = found.accounts.by_staff_id(staff_id)
    if account is None:
        return render(request, "staff_missing.html", title="No such account", status=404)
    if account.staff_id == user.staff_id:
        return render(
            request,
            "staff_disable.html",
            title=f"Disable the account {account.username}?",
            status=409,
            account=account,
            mine=True,
            errors=[FieldError("confirm", "You cannot disable your own account")],
        )
    found.accounts.disable(account.username)
    found.sessions.end_all(account.staff_id)
    flash(request, f"The account {account.username} is disabled; its sessions have ended.")
    return redirect("/console/staff")
