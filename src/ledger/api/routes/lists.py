"""`/v1` lists for the Foundation's staff: people (found by name, email or organisation),
programmes, field projects, enrolments and certificates, paged and filtered; and the certificate
register as CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ledger.api.auth import Principal
from ledger.api.deps import ADMIN, COMMITTEE, REGISTRAR, TUTOR, State, allow
from ledger.api.read_models import (
    CertificatePage,
    EnrolmentPage,
    PeoplePage,
    ProgrammePage,
    ProjectPage,
)
from ledger.api.routes.commands import PROBLEMS
from ledger.views import lists
from ledger.views.csv_export import Cell, to_csv

STAFF_ROLES = (ADMIN, REGISTRAR, TUTOR, COMMITTEE)
Staff = Annotated[Principal, Depends(allow(*STAFF_ROLES))]
"""The Foundation's staff: every role but the auditor (lists show names)."""

router = APIRouter(prefix="/v1", responses=PROBLEMS)

Limit = Annotated[int, Query(ge=1, le=200, description="items per page")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` of the previous page")
]
Filter = Annotated[str | None, Query(min_length=1, max_length=200)]
AsOf = Annotated[date | None, Query(description="answer for this date (valid time); default today")]
Kind = Annotated[Literal["associate_trainer", "licence", "instructor"] | None, Query()]
Status = Annotated[
    Literal["valid", "expired", "suspended", "revoked", "unknown"] | None,
    Query(description="status on `as_of`"),
]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}
}


def csv_response(filename: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Response:
    """A CSV download: plain UTF-8, named `filename`."""
    return Response(
        to_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def wants_csv(request: Request) -> bool:
    """Whether the client asked for CSV with `Accept: text/csv` (and not for JSON)."""
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def today(app: State) -> date:
    return app.runtime.clock.now().date()


def name_of(app: State) -> Callable[[str], str]:
    """A person's name as staff see it (`[erased]` once erased)."""
    service = app.runtime.service
    return lambda person_id: service.person(person_id).name


@router.get("/people", response_model=PeoplePage, tags=["people"])
def list_people(
    who: Staff,
    app: State,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="words of a name, email or organisation (case and accents ignored)",
            examples=["hrusovska"],
        ),
    ] = None,
    region: Filter = None,
    country: Filter = None,
    programme: Filter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """People, ordered by id, or with `q` the best matches first; a person marked as the
    duplicate of another is listed as the kept person."""
    runtime = app.runtime
    return lists.people(
        runtime.queries,
        runtime.service.persons,
        limit=limit,
        cursor=cursor,
        q=q,
        region=region,
        country=country,
        programme=programme,
        directory=runtime.people,
    ).out()


@router.get("/programmes", response_model=ProgrammePage, tags=["programmes"])
def list_programmes(who: Staff, app: State, limit: Limit = 50, cursor: Cursor = None) -> object:
    """Programmes with their counts of weeks, enrolments and field projects."""
    return lists.programmes(app.runtime.queries, limit=limit, cursor=cursor).out()


@router.get("/projects", response_model=ProjectPage, tags=["projects"])
def list_projects(
    who: Staff,
    app: State,
    programme: Filter = None,
    status: Annotated[Literal["open", "signed_off", "returned_for_rework"] | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """Field projects, of one programme or status when asked."""
    return lists.projects(
        app.runtime.queries, limit=limit, cursor=cursor, programme=programme, status=status
    ).out()


@router.get("/enrolments", response_model=EnrolmentPage, tags=["programmes"])
def list_enrolments(
    who: Staff,
    app: State,
    programme: Filter = None,
    person: Filter = None,
    active: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """Enrolments; a person's include those of people merged into them."""
    return lists.enrolments(
        app.runtime.queries,
        limit=limit,
        cursor=cursor,
        programme=programme,
        person=person,
        active=active,
    ).out()


@router.get("/certificates", response_model=CertificatePage, tags=["queries"])
def list_certificates(
    who: Staff,
    app: State,
    kind: Kind = None,
    status: Status = None,
    programme: Filter = None,
    holder: Filter = None,
    as_of: AsOf = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """Certificates with their status on `as_of`; a holder's include those of people merged
    into them."""
    wanted = lists.CertificateFilter(kind, status, programme, holder)
    return lists.certificates(
        app.runtime.queries, as_of or today(app), wanted, limit=limit, cursor=cursor
    ).out()


@router.get("/certificates.csv", tags=["queries"], responses=CSV, response_class=Response)
def certificate_register_csv(
    who: Staff,
    app: State,
    kind: Kind = None,
    status: Status = None,
    programme: Filter = None,
    holder: Filter = None,
    as_of: AsOf = None,
) -> Response:
    """The certificate register on `as_of` as CSV, holders named (the same filters as the
    list)."""
    day = as_of or today(app)
    wanted = lists.CertificateFilter(kind, status, programme, holder)
    keyed = lists.Register.read(app.runtime.queries).on(day, wanted)
    return csv_response(
        f"certificates-{day.isoformat()}.csv",
        lists.CERTIFICATE_CSV_HEADER,
        lists.certificate_csv_rows(keyed, name_of(app)),
    )
