"""The dashboard (`/console`): what needs doing for the signed-in role, each task linked to
the page where it is done, and the ledger's health (newest checkpoint, witnesses, lag)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledger.api.deps import State
from ledger.console import tasks
from ledger.console.appeal_list import appeals
from ledger.console.frame import render
from ledger.console.session import User
from ledger.domain.actors import Role
from ledger.domain.errors import DomainError
from ledger.domain.policy import Policy
from ledger.runtime import Runtime

router = APIRouter()

ROLE_NAMES = {
    Role.ADMIN: "administrator",
    Role.REGISTRAR: "registrar",
    Role.TUTOR: "tutor",
    Role.COMMITTEE: "member of the certification committee",
    Role.AUDITOR: "auditor",
}


def names(runtime: Runtime) -> Callable[[str], str]:
    """A person's name as staff see it (`[erased]` once erased), each read once per page."""

    @cache
    def name_of(person_id: str) -> str:
        try:
            return runtime.service.person(person_id).name
        except DomainError:
            return person_id

    return name_of


def policies(runtime: Runtime) -> Callable[[str | None], Policy]:
    """A programme's policy (the defaults for certificates of no programme)."""

    @cache
    def policy_of(programme_id: str | None) -> Policy:
        if not programme_id:
            return Policy()
        try:
            return runtime.service.policy_for(programme_id)
        except DomainError:
            return Policy()

    return policy_of


@router.get("/console", response_class=HTMLResponse)
def dashboard(request: Request, user: User, app: State) -> HTMLResponse:
    """What needs doing, per role."""
    runtime = app.runtime
    today = runtime.clock.now().date()
    sources = tasks.Sources(
        queries=runtime.queries,
        today=today,
        name_of=names(runtime),
        policy_of=policies(runtime),
        appeals=lambda: appeals(runtime.queries),
    )
    groups = tasks.for_role(user.role, user.person_id, sources)
    return render(
        request,
        "dashboard_index.html",
        title="What needs doing",
        today=today,
        role_name=ROLE_NAMES.get(user.role, str(user.role)),
        groups=groups,
        total=sum(len(group.tasks) for group in groups),
        health=tasks.ledger_health(runtime),
        auditor=user.role in (Role.AUDITOR, Role.ADMIN),
    )
