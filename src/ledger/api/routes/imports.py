"""`/v1/imports`: people, enrolments and attendance from a CSV file, checked whole, written in
one batch (docs/csv-import.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ledger.api.deps import AppState, IdempotencyKey, Recorder, State
from ledger.api.models import Problem as ProblemBody
from ledger.api.problems import Problem
from ledger.domain.actors import Actor
from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.plan import import_csv
from ledger.imports.report import ImportReport
from ledger.imports.resolve import programme_titles
from ledger.imports.templates import template_bytes
from ledger.views.positions import log_positions

CSV = "text/csv"
EXAMPLE = (
    "name,email,organisation,region,country\r\n"
    "Ines Ejemplo,ines.ejemplo@example.org,Example Cluster Agency,Cantabria,Spain\r\n"
)

router = APIRouter(prefix="/v1/imports", tags=["imports"])


class ImportProblem(BaseModel):
    row: int | None = Field(description="as a spreadsheet numbers it (header = 1); null: file")
    column: str | None = Field(description="the column at fault, if one is")
    message: str
    rule: str | None = Field(description="the policy rule that blocks the row (R1 to R11)")


class ImportAnswer(BaseModel):
    kind: ImportKind
    rows: int = Field(description="data rows read")
    appended: int = Field(description="rows that add records (on a dry run: would add)")
    skipped: int = Field(description="rows already recorded: importing again appends nothing")
    problems: list[ImportProblem]
    valid: bool = Field(description="whether the file can be imported as it is")
    positions: list[int] | None = Field(
        None, description="on a commit: log positions written, counted from 0"
    )
    projected: bool | None = Field(None, description="on a commit: read models include them")


PROBLEM = {"model": ProblemBody, "content": {"application/problem+json": {}}}
DOCUMENTED: dict[int | str, dict[str, Any]] = {
    200: {"model": ImportAnswer, "description": "Dry run: every row's problems; nothing written"},
    201: {"model": ImportAnswer, "description": "Imported in one batch"},
    401: PROBLEM,
    403: PROBLEM,
    415: {**PROBLEM, "description": "The body is not text/csv"},
    422: {
        **PROBLEM,
        "description": "The file has problems (listed in `problems`); nothing was written",
    },
}


@router.post(
    "/{kind}",
    summary="Import people, enrolments or attendance from CSV",
    description=(
        "The body is the CSV file (`Content-Type: text/csv`): UTF-8 with or without a byte"
        " order mark, comma or semicolon separated, a header row naming the columns"
        " (`GET /v1/imports/templates/{kind}.csv`). people: "
        f"{COLUMNS[ImportKind.PEOPLE].describe()}; enrolments: "
        f"{COLUMNS[ImportKind.ENROLMENTS].describe()}; attendance: "
        f"{COLUMNS[ImportKind.ATTENDANCE].describe()}. With `dry_run=true` every row is checked"
        " and nothing is written (200). Otherwise the rows are written in one batch (201), or,"
        " when any row has a problem, nothing is (422, with every problem). Rows already"
        " recorded are skipped, so importing the same file twice appends nothing."
    ),
    status_code=201,
    response_model=None,
    responses=DOCUMENTED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {CSV: {"schema": {"type": "string"}, "example": EXAMPLE}},
        }
    },
)
async def import_rows(
    kind: ImportKind,
    request: Request,
    who: Recorder,
    app: State,
    dry_run: Annotated[bool, Query(description="check every row; write nothing")] = False,
    key: IdempotencyKey = None,
) -> Response:
    media = request.headers.get("content-type", "").partition(";")[0].strip().casefold()
    if media != CSV:
        raise Problem(
            415,
            "unsupported-media-type",
            "Send the file as text/csv",
            f"the body is {media or 'untyped'}; send the CSV file with Content-Type: text/csv",
        )
    data = await request.body()
    if dry_run:
        report = await run_in_threadpool(_run, app, who.actor, kind, data, False)
        return JSONResponse(report.to_json())
    return await run_in_threadpool(
        app.idempotency.run,
        key,
        who.name,
        f"imports {kind}",
        data,
        lambda: _commit(app, who.actor, kind, data),
    )


@router.get(
    "/templates/{kind}.csv",
    summary="Download the CSV template of a kind of import",
    description="The header and one fictitious example row, UTF-8 with a byte order mark.",
    response_class=Response,
    responses={
        200: {"content": {CSV: {"schema": {"type": "string"}}}},
        401: PROBLEM,
        403: PROBLEM,
        422: PROBLEM,
    },
)
def template(kind: ImportKind, who: Recorder) -> Response:
    return Response(
        template_bytes(kind),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
    )


def _run(app: AppState, actor: Actor, kind: ImportKind, data: bytes, commit: bool) -> ImportReport:
    runtime = app.runtime
    return import_csv(
        data,
        kind,
        service=runtime.service,
        people=runtime.people,
        programmes=programme_titles(runtime.queries),
        actor=actor,
        commit=commit,
    )


def _commit(app: AppState, actor: Actor, kind: ImportKind, data: bytes) -> tuple[int, object]:
    """The commit, run once per Idempotency-Key; answers once the read models include it."""
    report = _run(app, actor, kind, data, True)
    if report.problems:
        raise Problem(
            422,
            "import-problems",
            "The file has problems; nothing was written",
            report.summary(),
            # the answer of a dry run, but `kind`, which names the problem type here
            **{k: v for k, v in report.to_json().items() if k != "kind"},
        )
    answer = report.to_json()
    projected = True
    if report.positions:
        if app.worker is not None:
            app.worker.wake()
        projected = app.runtime.runner.wait_for(max(report.positions), timeout=3.0)
        answer["positions"] = log_positions(app.runtime.db, report.positions)
    answer["projected"] = projected
    return 201, answer
