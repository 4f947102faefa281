"""The reports page (`/console/reports`): the counts the Foundation publishes, on a date, and
their CSV downloads behind the console's sign-in (the API's need a bearer token)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import State
from ledger.console.frame import FieldError, render
from ledger.console.routes.dashboard import names
from ledger.console.session import Staff, User
from ledger.domain.actors import Role
from ledger.views import lists, reports
from ledger.views.csv_export import Cell, to_csv

router = APIRouter()

GROUPINGS = ("kind", "programme", "region", "country")
HEADINGS = {
    "kind": "Kind",
    "programme": "Programme",
    "region": "Region",
    "country": "Country",
}
Grouping = Literal["kind", "programme", "region", "country", "status"]
Every = Literal["month", "quarter", "year"]


def download(filename: str, header: list[str], rows: list[list[Any]]) -> Response:
    """A CSV file to save (staff data: never kept by a cache)."""
    cells: list[list[Cell]] = rows
    return Response(
        to_csv(header, cells),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def read_day(text: str, today: date) -> tuple[date, str | None]:
    """The date asked for (today when none), or today and what is wrong with the text."""
    if not text.strip():
        return today, None
    try:
        return date.fromisoformat(text.strip()), None
    except ValueError:
        return today, "Enter the date as year-month-day, for example 2013-07-19"


@router.get("/console/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: User, app: State, as_of: str = "") -> HTMLResponse:
    """The summary sentence and the counts by kind, programme, region and country."""
    queries = app.runtime.queries
    today = app.runtime.clock.now().date()
    day, problem = read_day(as_of, today)
    tables = {by: reports.counts(queries, by, day) for by in GROUPINGS}
    return render(
        request,
        "reports_index.html",
        title="Reports",
        status=422 if problem else 200,
        errors=[FieldError("as_of", problem)] if problem else [],
        as_of=day,
        typed=as_of if problem else day.isoformat(),
        summary=reports.summary(queries, day),
        tables=tables,
        headings=HEADINGS,
        kinds=reports.KINDS,
        names_allowed=user.role is not Role.AUDITOR,
    )


@router.get("/console/reports/counts.csv")
def counts_csv(
    user: User, app: State, by: Grouping = "kind", as_of: date | None = None
) -> Response:
    """Valid certificates on `as_of` counted per `by`, a column per kind."""
    day = as_of or app.runtime.clock.now().date()
    report = reports.counts(app.runtime.queries, by, day)
    header, rows = reports.counts_csv(report)
    return download(f"counts-by-{by}-{day.isoformat()}.csv", header, rows)


@router.get("/console/reports/timeline.csv")
def timeline_csv(
    user: User, app: State, every: Every = "quarter", by: Grouping = "kind"
) -> Response:
    """Per period since the first certificate: valid at its end and issued within it."""
    today = app.runtime.clock.now().date()
    grouping = "kind" if by == "status" else by
    report = reports.timeline(app.runtime.queries, None, today, every, grouping)
    header, rows = reports.timeline_csv(report)
    name = f"timeline-{every}-{report['from']}-{report['to']}.csv"
    return download(name, header, rows)


@router.get("/console/reports/certificates.csv")
def certificates_csv(user: Staff, app: State, as_of: date | None = None) -> Response:
    """The certificate register on `as_of`, holders named (staff only, not auditors)."""
    day = as_of or app.runtime.clock.now().date()
    keyed = lists.Register.read(app.runtime.queries).on(day)
    rows = lists.certificate_csv_rows(keyed, names(app.runtime))
    return download(f"certificates-{day.isoformat()}.csv", list(lists.CERTIFICATE_CSV_HEADER), rows)
