"""Console pages: field projects. A programme's board of projects (team, tutor, sign-off state),
registering a project, assigning its tutor and its members, and the project's page, where its
own tutor signs it off or returns it for rework, and the tutor, a registrar or an admin
withdraws a sign-off given by mistake (R3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import State
from ledger.console.frame import FieldError, render
from ledger.console.pages import done
from ledger.console.people_finder import find_people
from ledger.console.programme_access import keeps_records, the_programme, the_project, tutors
from ledger.console.programme_forms import (
    Unanswered,
    message_of,
    optional_date,
    refusal,
    rehearse,
    status_of,
)
from ledger.console.programme_read import Names, ProjectCard
from ledger.console.session import ConsoleUser, Form, Registrar, Staff
from ledger.domain.errors import BatchRefused, DomainError
from ledger.service import LedgerService, Receipt

router = APIRouter()

PROJECT_LABELS = {
    "cluster_initiative": "Cluster initiative",
    "sector": "Sector",
    "region": "Region",
    "country": "Country",
}
SEARCH_LIMIT = 50


# -- the board, and registering a project ------------------------------------------------------


@router.get("/console/programmes/{programme_id}/projects")
def project_board(request: Request, user: Staff, app: State, programme_id: str) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return render(
        request,
        "projects_board.html",
        title=f"Field projects of {programme.title}",
        programme=programme,
        may_register=keeps_records(user),
        me=user.person_id,
    )


def _register_form(
    request: Request,
    programme_id: str,
    title: str,
    values: dict[str, str],
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "projects_new.html",
        title="Register a field project",
        status=status,
        errors=errors,
        programme_id=programme_id,
        programme_title=title,
        values=values,
    )


@router.get("/console/programmes/{programme_id}/projects/new")
def register_project_form(
    request: Request, user: Registrar, app: State, programme_id: str
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    values = dict.fromkeys(PROJECT_LABELS, "")
    return _register_form(request, programme_id, programme.title, values)


@router.post("/console/programmes/{programme_id}/projects/new")
def register_project(
    request: Request, user: Registrar, app: State, form: Form, programme_id: str
) -> Response:
    programme = the_programme(app, programme_id)
    values = {name: form.get(name) for name in PROJECT_LABELS}
    errors = [
        FieldError(name, f"Enter the {label.lower()}")
        for name, label in PROJECT_LABELS.items()
        if not values[name].strip()
    ]
    if errors:
        return _register_form(request, programme_id, programme.title, values, errors, 422)
    try:
        receipt = app.runtime.service.register_project(
            user.actor,
            programme_id,
            values["cluster_initiative"],
            values["sector"],
            values["region"],
            values["country"],
        )
    except DomainError as refused:
        problems = refusal(
            refused,
            "cluster_initiative",
            fields={name: name for name in PROJECT_LABELS},
            labels=PROJECT_LABELS,
        )
        return _register_form(
            request, programme_id, programme.title, values, problems, status_of(refused)
        )
    return done(
        request,
        app,
        receipt,
        "The field project is registered. Assign its tutor and its team.",
        f"/console/projects/{receipt.id}",
    )


# -- the project's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """An act on the project: offered (a link to its form) or, when the signed-in person
    could take it but the rules do not allow it now, the reason why not."""

    label: str
    href: str
    blocked: str | None = None
    warning: bool = False


def _offers(app: State, user: ConsoleUser, project: ProjectCard) -> list[Offer]:
    """The acts on the project the signed-in person may take. The project's own tutor signs
    it off or returns it (R3); its tutor, a registrar or an admin withdraws a sign-off. An
    act not theirs to take is not offered at all."""
    service = app.runtime.service
    base = f"/console/projects/{project.project_id}"
    offers: list[Offer] = []
    own = tutors(user, project)
    if own and project.status != "signed_off":
        refused = rehearse(service, lambda s: s.sign_off(user.actor, project.project_id))
        blocked = None if refused is None else message_of(refused)
        offers.append(Offer("Sign off the project", f"{base}/sign-off", blocked))
    if own and project.status == "open":
        offers.append(Offer("Return it for rework", f"{base}/return", warning=True))
    if project.status == "signed_off" and (own or keeps_records(user)):
        refused = rehearse(
            service,
            lambda s: s.withdraw_sign_off(user.actor, project.project_id, "rehearsal"),
        )
        blocked = None if refused is None else message_of(refused)
        offers.append(
            Offer("Withdraw the sign-off", f"{base}/sign-off/withdrawal", blocked, warning=True)
        )
    return offers


@router.get("/console/projects/{project_id}")
def project_page(request: Request, user: Staff, app: State, project_id: str) -> HTMLResponse:
    project = the_project(app, project_id)
    programme = the_programme(app, project.programme_id)
    keeps = keeps_records(user)
    team_max = int(programme.policy.get("team_max", 3))
    return render(
        request,
        "projects_page.html",
        title=project.cluster_initiative,
        project=project,
        programme=programme,
        offers=_offers(app, user, project),
        may_assign_tutor=keeps and project.tutor_id is None,
        may_add_members=keeps and len(project.members) < team_max,
        own=tutors(user, project),
    )


# -- assigning the tutor and the team --------------------------------------------------------------


def _tutor_form(
    request: Request,
    app: State,
    project: ProjectCard,
    q: str,
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    members = {person_id for person_id, _ in project.members}
    found = [item for item in find_people(app, q, SEARCH_LIMIT) if item["person_id"] not in members]
    return render(
        request,
        "projects_tutor.html",
        title=f"Assign the tutor of {project.cluster_initiative}",
        status=status,
        errors=errors,
        project=project,
        q=q,
        found=found,
    )


@router.get("/console/projects/{project_id}/tutor")
def assign_tutor_form(
    request: Request, user: Registrar, app: State, project_id: str, q: str = ""
) -> HTMLResponse:
    return _tutor_form(request, app, the_project(app, project_id), q[:200])


@router.post("/console/projects/{project_id}/tutor")
def assign_tutor(
    request: Request, user: Registrar, app: State, form: Form, project_id: str
) -> Response:
    project = the_project(app, project_id)
    person_id, q = form.get("person_id"), form.get("q")[:200]
    if not person_id:
        problem = FieldError("person_id", "Select the person who tutors the project")
        return _tutor_form(request, app, project, q, [problem], 422)
    try:
        receipt = app.runtime.service.assign_tutor(user.actor, project_id, person_id)
    except DomainError as refused:
        problems = refusal(refused, "person_id", fields={"person_id": "person_id"})
        return _tutor_form(request, app, project, q, problems, status_of(refused))
    return done(request, app, receipt, "The tutor is assigned.", f"/console/projects/{project_id}")


def _members_form(
    request: Request,
    app: State,
    project: ProjectCard,
    ticked: list[str],
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    programme = the_programme(app, project.programme_id)
    free = [
        p
        for p in programme.participants
        if p.active and p.project_id is None and p.person_id != project.tutor_id
    ]
    return render(
        request,
        "projects_members.html",
        title=f"Add team members to {project.cluster_initiative}",
        status=status,
        errors=errors,
        project=project,
        programme=programme,
        free=free,
        ticked=set(ticked),
    )


@router.get("/console/projects/{project_id}/members")
def assign_members_form(
    request: Request, user: Registrar, app: State, project_id: str
) -> HTMLResponse:
    return _members_form(request, app, the_project(app, project_id), [])


def _assign_members(
    service: LedgerService, user: ConsoleUser, project_id: str, people: list[str]
) -> Receipt:
    """Every member in one save, or none: each refusal (R1) is named by its person."""
    batch = service.batch()
    problems: list[tuple[str, DomainError]] = []
    for person_id in people:
        try:
            batch.service.assign_member(user.actor, project_id, person_id)
        except DomainError as refused:
            problems.append((person_id, refused))
    if problems:
        raise BatchRefused(problems)
    return batch.commit(project_id)


@router.post("/console/projects/{project_id}/members")
def assign_members(
    request: Request, user: Registrar, app: State, form: Form, project_id: str
) -> Response:
    project = the_project(app, project_id)
    ticked = form.getlist("person")
    if not ticked:
        first = form.get("first_person") or "main"
        problem = FieldError(first, "Select at least one participant to add to the team")
        return _members_form(request, app, project, [], [problem], 422)
    names = Names(app.runtime)
    try:
        receipt = _assign_members(app.runtime.service, user, project_id, ticked)
    except DomainError as refused:
        problems = refusal(refused, "main", item_field=lambda p: f"person-{p}", item_name=names)
        return _members_form(request, app, project, ticked, problems, status_of(refused))
    count = len(ticked)
    said = f"{count} {'member' if count == 1 else 'members'} added to the team."
    return done(request, app, receipt, said, f"/console/projects/{project_id}")


# -- the tutor's acts: sign off, return for rework, withdraw a sign-off ----------------------------


@dataclass(frozen=True)
class Act:
    """One act on a project, as its page asks for it."""

    slug: str
    title: str
    button: str
    done: str
    asks_note: bool = False
    asks_reason: bool = False
    asks_date: bool = False
    warning: bool = False


SIGN_OFF = Act(
    "sign-off",
    "Sign off the field project",
    "Sign off the project",
    "The project is signed off.",
    asks_note=True,
    asks_date=True,
)
RETURN = Act(
    "return",
    "Return the field project for rework",
    "Return for rework",
    "The project is returned for rework.",
    asks_reason=True,
    asks_date=True,
    warning=True,
)
WITHDRAW = Act(
    "sign-off/withdrawal",
    "Withdraw the sign-off",
    "Withdraw the sign-off",
    "The sign-off is withdrawn: the project is open again.",
    asks_reason=True,
    warning=True,
)


def _run(
    act: Act, user: ConsoleUser, project_id: str, note: str, on: date | None
) -> Callable[[LedgerService], Receipt]:
    if act is SIGN_OFF:
        return lambda s: s.sign_off(user.actor, project_id, note, on)
    if act is RETURN:
        return lambda s: s.return_project(user.actor, project_id, note, on)
    return lambda s: s.withdraw_sign_off(user.actor, project_id, note)


def _rehearsal_text(act: Act) -> str:
    return "rehearsal" if act.asks_reason else ""


def _act_page(
    request: Request,
    app: State,
    user: ConsoleUser,
    act: Act,
    project: ProjectCard,
    values: dict[str, str],
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    refused = rehearse(
        app.runtime.service, _run(act, user, project.project_id, _rehearsal_text(act), None)
    )
    return render(
        request,
        "projects_act.html",
        title=act.title,
        status=status,
        errors=errors,
        act=act,
        project=project,
        blocked=None if refused is None else message_of(refused),
        values=values,
    )


def _act_form(
    request: Request, user: ConsoleUser, app: State, act: Act, project_id: str
) -> HTMLResponse:
    project = the_project(app, project_id)
    return _act_page(request, app, user, act, project, {"note": "", "on": ""})


def _take_act(
    request: Request, user: ConsoleUser, app: State, form: Form, act: Act, project_id: str
) -> Response:
    """Take the act as the signed-in person; the service refuses anyone the rules do not
    allow (R3: only the project's own tutor signs it off), and the page names the rule."""
    project = the_project(app, project_id)
    values = {"note": form.get("note"), "on": form.get("on")}
    try:
        on = optional_date(values["on"], "on", "The date") if act.asks_date else None
    except Unanswered as unanswered:
        return _act_page(request, app, user, act, project, values, [unanswered.error], 422)
    if act.asks_reason and not values["note"].strip():
        problem = FieldError("note", "Give the reason")
        return _act_page(request, app, user, act, project, values, [problem], 422)
    try:
        receipt = _run(act, user, project_id, values["note"], on)(app.runtime.service)
    except DomainError as refused:
        problems = refusal(
            refused,
            "main",  # a rule refuses the act itself, not one of its answers
            fields={"note": "note", "reason": "note", "on": "on"},
            labels={"note": "Note", "reason": "Reason", "on": "Date"},
        )
        return _act_page(request, app, user, act, project, values, problems, status_of(refused))
    return done(request, app, receipt, act.done, f"/console/projects/{project_id}")


@router.get("/console/projects/{project_id}/sign-off")
def sign_off_form(request: Request, user: Staff, app: State, project_id: str) -> HTMLResponse:
    return _act_form(request, user, app, SIGN_OFF, project_id)


@router.post("/console/projects/{project_id}/sign-off")
def sign_off(request: Request, user: Staff, app: State, form: Form, project_id: str) -> Response:
    return _take_act(request, user, app, form, SIGN_OFF, project_id)


@router.get("/console/projects/{project_id}/return")
def return_form(request: Request, user: Staff, app: State, project_id: str) -> HTMLResponse:
    return _act_form(request, user, app, RETURN, project_id)


@router.post("/console/projects/{project_id}/return")
def return_for_rework(
    request: Request, user: Staff, app: State, form: Form, project_id: str
) -> Response:
    return _take_act(request, user, app, form, RETURN, project_id)


@router.get("/console/projects/{project_id}/sign-off/withdrawal")
def withdrawal_form(request: Request, user: Staff, app: State, project_id: str) -> HTMLResponse:
    return _act_form(request, user, app, WITHDRAW, project_id)


@router.post("/console/projects/{project_id}/sign-off/withdrawal")
def withdraw_sign_off(
    request: Request, user: Staff, app: State, form: Form, project_id: str
) -> Response:
    return _take_act(request, user, app, form, WITHDRAW, project_id)
