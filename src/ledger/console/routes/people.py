"""Console pages: people. Finding a person (search as you type, and a plain form without
JavaScript), registering one (with the possible duplicates shown before a second record is
made), and a person's page: details, certificates, courses, their path as a timeline, and the
acts open to the signed-in role (`people_acts`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import AppState, State
from ledger.console.frame import environment, render
from ledger.console.pages import done
from ledger.console.people_forms import Field, refusal, status_of
from ledger.console.person_view import RECORDERS, person_page
from ledger.console.routes import people_acts, records
from ledger.console.session import (
    ADMIN,
    ConsoleRefusal,
    ConsoleUser,
    Form,
    Registrar,
    Staff,
    gate,
)
from ledger.domain.errors import DomainError, InvalidCommand, NotFound, PossibleDuplicate
from ledger.domain.person import Person
from ledger.views import lists
from ledger.views.queries import QueryError

router = APIRouter()
router.include_router(people_acts.router)
router.include_router(records.router)

PAGE = 25
"""People shown per page of results."""

REGISTRATION = {
    "name": Field("name", "Full name"),
    "email": Field("email", "Email address"),
    "organisation": Field("organisation", "Organisation"),
    "region": Field("region", "Region"),
    "country": Field("country", "Country"),
}


def find_person(app: AppState, person_id: str) -> Person:
    """The person, or the console's 'not found' page."""
    try:
        return app.runtime.service.person(person_id)
    except (NotFound, InvalidCommand):
        raise ConsoleRefusal(
            404, "There is no person with this id.", title="Person not found"
        ) from None


def usernames(request: Request, app: AppState, user: ConsoleUser) -> dict[str, str]:
    """Who is behind each staff pseudonym in the records: for administrators only."""
    if user.role != ADMIN:
        return {}
    known = [*app.tokens.staff(), *gate(request).accounts.staff()]
    return {staff_id: name for staff_id, name, _ in known}


# -- finding people ---------------------------------------------------------------------------


def summary_of(q: str, page: lists.Page) -> str:
    if not q:
        return f"{page.total} {'person' if page.total == 1 else 'people'} registered"
    if page.total == 0:
        return "No one found"
    return f"{page.total} {'person' if page.total == 1 else 'people'} found"


def results(app: AppState, q: str, cursor: str | None) -> tuple[lists.Page, str | None]:
    """A page of people (with `q`, the best matches first); a cursor this list did not give
    reads as the first page."""
    runtime = app.runtime

    def page(after: str | None) -> lists.Page:
        return lists.people(
            runtime.queries,
            runtime.service.persons,
            limit=PAGE,
            cursor=after,
            q=q or None,
            directory=runtime.people,
        )

    try:
        return page(cursor), cursor
    except QueryError:
        return page(None), None


@router.get("/console/people")
def search_people(
    request: Request,
    user: Staff,
    app: State,
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    fragment: bool = False,
) -> Response:
    """People found by part of a name, email or organisation (case and accents ignored).
    `fragment=1` answers the results table alone, which the page's script swaps in as the
    searcher types."""
    q = q.strip()
    page, cursor = results(app, q, cursor)
    context: dict[str, Any] = {
        "q": q,
        "page": page,
        "summary": summary_of(q, page),
        "cursor": cursor,
    }
    if fragment:
        html = environment.get_template("people_results.html").render(context)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})
    return render(
        request,
        "people_search.html",
        title="People",
        may_register=user.role in RECORDERS,
        **context,
    )


# -- registering --------------------------------------------------------------------------------


def _answers(form: Form) -> dict[str, str]:
    return {name: form.get(name).strip() for name in REGISTRATION}


@router.get("/console/people/new")
def registration_form(request: Request, user: Registrar) -> Response:
    return render(request, "people_register.html", title="Register a person", answers={})


@router.post("/console/people/new")
def register(request: Request, user: Registrar, app: State, form: Form) -> Response:
    """Register the person; when they may be registered already, the possible matches are
    shown, to open one of them or to register anyway."""
    answers = _answers(form)
    confirmed = form.get("confirm_duplicate") == "yes"
    service = app.runtime.service
    try:
        receipt = service.register_person(
            user.actor,
            answers["name"],
            answers["email"],
            answers["organisation"],
            answers["region"],
            answers["country"],
            confirm_duplicate=confirmed,
        )
    except PossibleDuplicate as possible:
        matches = []
        for person_id in possible.matches:
            try:
                matches.append(service.person(person_id))
            except DomainError:
                continue
        return render(
            request,
            "people_duplicates.html",
            title="This person may already be registered",
            status=409,
            answers=answers,
            matches=matches,
        )
    except DomainError as refused:
        return render(
            request,
            "people_register.html",
            title="Register a person",
            status=status_of(refused),
            errors=refusal(refused, REGISTRATION, "name"),
            answers=answers,
        )
    return done(request, app, receipt, "Person registered.", f"/console/people/{receipt.id}")


# -- a person's page ----------------------------------------------------------------------------


@router.get("/console/people/{person_id}")
def person(request: Request, person_id: str, user: Staff, app: State) -> Response:
    """The person's details, certificates, courses, their path in words with each record's
    proof, and the acts open to the signed-in role."""
    found = find_person(app, person_id)
    shown = person_page(app.runtime, user, found, usernames(request, app, user))
    return render(
        request,
        "people_person.html",
        title=found.name,
        shown=shown,
    )
