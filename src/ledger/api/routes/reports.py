"""`/v1/reports`: the counts the Foundation publishes, on a date and over time, as JSON or CSV
(`.csv` paths, or `Accept: text/csv`). Counts only: nothing personal."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ledger.api.deps import Reader, State
from ledger.api.read_models import Counts, Summary, Timeline
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.lists import CSV, AsOf, csv_response, today, wants_csv
from ledger.views import reports

router = APIRouter(prefix="/v1/reports", responses=PROBLEMS, tags=["reports"])

By = Annotated[
    Literal["programme", "region", "country", "kind", "status"],
    Query(description="what to count by (the holder's region and country)"),
]
CountedStatus = Annotated[
    Literal["valid", "suspended", "expired", "revoked", "any"],
    Query(description="count certificates of this status on `as_of` (ignored by status)"),
]
Every = Annotated[Literal["month", "quarter", "year"], Query()]
TimelineBy = Annotated[Literal["programme", "region", "country", "kind"], Query()]
From = Annotated[
    date | None, Query(alias="from", description="first day (default: the first issue)")
]
To = Annotated[date | None, Query(alias="to", description="last day (default today)")]


def _counts(app: State, by: str, as_of: date | None, status: str) -> dict[str, Any]:
    day = as_of or today(app)
    return reports.counts(app.runtime.queries, by, day, None if status == "any" else status)


def _counts_csv(report: dict[str, Any]) -> Response:
    header, rows = reports.counts_csv(report)
    return csv_response(f"counts-by-{report['by']}-{report['as_of']}.csv", header, rows)


@router.get("/counts", response_model=Counts, responses=CSV)
def counts(
    request: Request,
    who: Reader,
    app: State,
    by: By = "kind",
    as_of: AsOf = None,
    status: CountedStatus = "valid",
) -> object:
    """Certificates counted per programme, region, country, kind or status on `as_of`, with a
    column per kind."""
    report = _counts(app, by, as_of, status)
    return _counts_csv(report) if wants_csv(request) else report


@router.get("/counts.csv", responses=CSV, response_class=Response)
def counts_csv(
    who: Reader, app: State, by: By = "kind", as_of: AsOf = None, status: CountedStatus = "valid"
) -> Response:
    """The counts as CSV."""
    return _counts_csv(_counts(app, by, as_of, status))


def _timeline(
    app: State, start: date | None, end: date | None, every: str, by: str
) -> dict[str, Any]:
    return reports.timeline(app.runtime.queries, start, end or today(app), every, by)


def _timeline_csv(report: dict[str, Any]) -> Response:
    header, rows = reports.timeline_csv(report)
    name = f"timeline-{report['every']}-{report['from']}-{report['to']}.csv"
    return csv_response(name, header, rows)


@router.get("/timeline", response_model=Timeline, responses=CSV)
def timeline(
    request: Request,
    who: Reader,
    app: State,
    start: From = None,
    end: To = None,
    every: Every = "quarter",
    by: TimelineBy = "kind",
) -> object:
    """Per month, quarter or year: certificates valid on its last day and issued within it."""
    report = _timeline(app, start, end, every, by)
    return _timeline_csv(report) if wants_csv(request) else report


@router.get("/timeline.csv", responses=CSV, response_class=Response)
def timeline_csv(
    who: Reader,
    app: State,
    start: From = None,
    end: To = None,
    every: Every = "quarter",
    by: TimelineBy = "kind",
) -> Response:
    """The timeline as CSV."""
    return _timeline_csv(_timeline(app, start, end, every, by))


@router.get("/summary", response_model=Summary)
def summary(who: Reader, app: State, as_of: AsOf = None) -> object:
    """People holding a valid certificate of each kind, where from, and the sentence
    ("31 Associate Trainers from 19 regions")."""
    return reports.summary(app.runtime.queries, as_of or today(app))
