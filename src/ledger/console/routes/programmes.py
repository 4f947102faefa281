"""Console pages: programmes. The list and opening a programme; a programme's page with its
weeks and participants; scheduling a week; enrolling several people at once. The attendance
grid, the field projects and the CSV import have their own modules, included here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import State
from ledger.console.frame import FieldError, plural, render
from ledger.console.pages import done
from ledger.console.people_finder import find_people
from ledger.console.programme_access import keeps_records, the_programme
from ledger.console.programme_forms import (
    Unanswered,
    refusal,
    required_date,
    status_of,
    whole_number,
)
from ledger.console.programme_read import Names, ProgrammeView
from ledger.console.routes import attendance, imports, projects
from ledger.console.session import Form, Registrar, Staff
from ledger.domain.errors import DomainError
from ledger.domain.policy import Policy
from ledger.views import lists
from ledger.views.queries import QueryError

router = APIRouter()
for module in (attendance, projects, imports):
    router.include_router(module.router)

PAGE = 50
POLICY_FIELDS = ("weeks_total", "weeks_required", "team_min", "team_max")
OPEN_LABELS = {
    "title": "Title",
    "starts_on": "Start date",
    "ends_on": "End date",
    "material_version": "Material version",
    "weeks_total": "In-class weeks",
    "weeks_required": "Weeks required",
    "team_min": "Smallest team",
    "team_max": "Largest team",
}
WEEK_LABELS = {
    "number": "Week number",
    "starts_on": "First day",
    "ends_on": "Last day",
    "place": "Place",
    "modules": "Modules",
}


# -- the list, and opening a programme ----------------------------------------------------------


@router.get("/console/programmes")
def programme_list(
    request: Request, user: Staff, app: State, cursor: str | None = None
) -> HTMLResponse:
    try:
        page = lists.programmes(app.runtime.queries, limit=PAGE, cursor=cursor)
    except QueryError:
        page = lists.programmes(app.runtime.queries, limit=PAGE)
    return render(
        request,
        "programmes_list.html",
        title="Programmes",
        page=page,
        may_open=keeps_records(user),
    )


def _open_form(
    request: Request,
    app: State,
    values: dict[str, str],
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "programmes_new.html",
        title="Open a programme",
        status=status,
        errors=errors,
        values=values,
        versions=[
            (version, f"{version}: {title}")
            for version, title in sorted(app.runtime.service.published_versions().items())
        ],
    )


@router.get("/console/programmes/new")
def open_programme_form(request: Request, user: Registrar, app: State) -> HTMLResponse:
    defaults = Policy()
    values = {name: str(getattr(defaults, name)) for name in POLICY_FIELDS}
    return _open_form(request, app, values)


@router.post("/console/programmes/new")
def open_programme(request: Request, user: Registrar, app: State, form: Form) -> Response:
    fields = ("title", "starts_on", "ends_on", "material_version", *POLICY_FIELDS)
    values = {name: form.get(name) for name in fields}
    values["tutors_record_attendance"] = form.get("tutors_record_attendance")
    errors: list[FieldError] = []  # in the order of the form's fields
    if not values["title"].strip():
        errors.append(FieldError("title", "Enter the title"))
    policy: dict[str, int] = {}
    dates = {}
    for name in ("starts_on", "ends_on"):
        try:
            dates[name] = required_date(values[name], name, OPEN_LABELS[name])
        except Unanswered as unanswered:
            errors.append(unanswered.error)
    if not values["material_version"].strip():
        errors.append(FieldError("material_version", "Enter the material version"))
    for name in POLICY_FIELDS:
        try:
            least = 1 if name in ("weeks_total", "team_min", "team_max") else 0
            policy[name] = whole_number(values[name], name, OPEN_LABELS[name], least)
        except Unanswered as unanswered:
            errors.append(unanswered.error)
    policy["tutors_record_attendance"] = 1 if values["tutors_record_attendance"] else 0
    if errors:
        return _open_form(request, app, values, errors, 422)
    try:
        receipt = app.runtime.service.open_programme(
            user.actor,
            values["title"],
            dates["starts_on"],
            dates["ends_on"],
            values["material_version"],
            policy,
        )
    except DomainError as refused:
        fields_of = {f"policy.{name}": name for name in POLICY_FIELDS}
        problems = refusal(refused, "title", fields=fields_of, labels=_policy_labels())
        return _open_form(request, app, values, problems, status_of(refused))
    return done(
        request,
        app,
        receipt,
        "The programme is open. Schedule its weeks, then enrol its participants.",
        f"/console/programmes/{receipt.id}",
    )


def _policy_labels() -> dict[str, str]:
    return {**OPEN_LABELS, **{f"policy.{k}": v for k, v in OPEN_LABELS.items()}}


# -- a programme's page ---------------------------------------------------------------------------


@router.get("/console/programmes/{programme_id}")
def programme_page(request: Request, user: Staff, app: State, programme_id: str) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return render(
        request,
        "programmes_page.html",
        title=programme.title,
        programme=programme,
        may_record=keeps_records(user),
    )


# -- scheduling a week ----------------------------------------------------------------------------


def _week_form(
    request: Request,
    programme: ProgrammeView,
    values: dict[str, str],
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "programmes_week_new.html",
        title=f"Schedule a week of {programme.title}",
        status=status,
        errors=errors,
        programme=programme,
        values=values,
        week_options=[(str(n), f"Week {n}") for n in programme.unscheduled],
    )


@router.get("/console/programmes/{programme_id}/weeks/new")
def schedule_week_form(
    request: Request, user: Registrar, app: State, programme_id: str
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    number = str(programme.unscheduled[0]) if programme.unscheduled else ""
    values = {"number": number, "starts_on": "", "ends_on": "", "place": "", "modules": ""}
    return _week_form(request, programme, values)


@router.post("/console/programmes/{programme_id}/weeks/new")
def schedule_week(
    request: Request, user: Registrar, app: State, form: Form, programme_id: str
) -> Response:
    programme = the_programme(app, programme_id)
    values = {name: form.get(name) for name in WEEK_LABELS}
    errors: list[FieldError] = []
    number = 0
    dates = {}
    try:
        number = whole_number(values["number"], "number", WEEK_LABELS["number"], 1)
    except Unanswered as unanswered:
        errors.append(unanswered.error)
    for name in ("starts_on", "ends_on"):
        try:
            dates[name] = required_date(values[name], name, WEEK_LABELS[name])
        except Unanswered as unanswered:
            errors.append(unanswered.error)
    modules = [line.strip() for line in values["modules"].splitlines() if line.strip()]
    if not values["place"].strip():
        errors.append(FieldError("place", "Enter the place where the week is held"))
    if not modules:
        errors.append(FieldError("modules", "Enter the modules taught, one a line"))
    if errors:
        return _week_form(request, programme, values, errors, 422)
    try:
        receipt = app.runtime.service.schedule_week(
            user.actor,
            programme_id,
            number,
            dates["starts_on"],
            dates["ends_on"],
            values["place"],
            modules,
        )
    except DomainError as refused:
        problems = refusal(
            refused,
            "number",
            fields={name: name for name in WEEK_LABELS},
            labels=WEEK_LABELS,
        )
        return _week_form(request, programme, values, problems, status_of(refused))
    return done(
        request, app, receipt, f"Week {number} is scheduled.", f"/console/programmes/{programme_id}"
    )


# -- enrolling people -----------------------------------------------------------------------------


def _enrol_form(
    request: Request,
    app: State,
    programme: ProgrammeView,
    q: str,
    ticked: list[str],
    consortium: str = "",
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    enrolled = {p.person_id for p in programme.participants}
    return render(
        request,
        "programmes_enrol.html",
        title=f"Enrol people in {programme.title}",
        status=status,
        errors=errors,
        programme=programme,
        q=q,
        found=find_people(app, q, PAGE),
        enrolled=enrolled,
        ticked=set(ticked),
        consortium=consortium,
    )


@router.get("/console/programmes/{programme_id}/enrolments/new")
def enrol_form(
    request: Request, user: Registrar, app: State, programme_id: str, q: str = ""
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return _enrol_form(request, app, programme, q[:200], [])


@router.post("/console/programmes/{programme_id}/enrolments/new")
def enrol_people(
    request: Request, user: Registrar, app: State, form: Form, programme_id: str
) -> Response:
    programme = the_programme(app, programme_id)
    q, consortium = form.get("q")[:200], form.get("consortium")
    ticked = form.getlist("person")
    if not ticked:
        first = form.get("first_person") or "q"
        problem = FieldError(first, "Select at least one person to enrol")
        return _enrol_form(request, app, programme, q, [], consortium, [problem], 422)
    names = Names(app.runtime)
    try:
        receipt = app.runtime.service.enrol_many(
            user.actor, programme_id, [(p, consortium.strip() or None) for p in ticked]
        )
    except DomainError as refused:
        problems = refusal(
            refused,
            "consortium",
            labels={"consortium": "Consortium"},
            item_field=lambda p: f"person-{p}",
            item_name=names,
        )
        return _enrol_form(
            request, app, programme, q, ticked, consortium, problems, status_of(refused)
        )
    return done(
        request,
        app,
        receipt,
        f"{plural(len(ticked), 'person', 'people')} enrolled.",
        f"/console/programmes/{programme_id}",
    )
