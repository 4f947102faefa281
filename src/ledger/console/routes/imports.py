"""Console pages: importing people, enrolments or attendance from a spreadsheet saved as CSV.

Uploading checks every row and writes nothing: the page lists each problem by row and column,
or says how many rows are ready. Importing them sends the very file checked, carried in the
page itself (nothing personal is kept on the server between the two steps), and writes it in
one batch, or nothing when a row has become a problem meanwhile (docs/csv-import.md)."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import State
from ledger.console.csv_templates import template_for
from ledger.console.frame import FieldError, plural, render
from ledger.console.pages import settle
from ledger.console.programme_access import the_programme
from ledger.console.programme_read import ProgrammeView
from ledger.console.session import ConsoleUser, Form, Registrar, flash, redirect
from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.plan import import_csv
from ledger.imports.report import ImportReport
from ledger.imports.resolve import programme_titles

router = APIRouter()

KIND_LABELS = {
    ImportKind.PEOPLE: "People, and the programme each is enrolled in",
    ImportKind.ENROLMENTS: "Enrolments of people already registered",
    ImportKind.ATTENDANCE: "Attendance of in-class weeks",
}


def _kind(value: str) -> ImportKind | None:
    try:
        return ImportKind(value)
    except ValueError:
        return None


def _upload_page(
    request: Request,
    programme: ProgrammeView | None,
    kind: str,
    *,
    report: ImportReport | None = None,
    data: str = "",
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    action = (
        "/console/import"
        if programme is None
        else f"/console/programmes/{programme.programme_id}/import"
    )
    return render(
        request,
        "import_upload.html",
        title="Check an import" if report is not None else "Import from a CSV file",
        status=status,
        errors=errors,
        programme=programme,
        kind=kind,
        kinds=[(k.value, label, COLUMNS[k].describe()) for k, label in KIND_LABELS.items()],
        action=action,
        report=report,
        data=data,
        summary="" if report is None else _said(report),
    )


def _said(report: ImportReport) -> str:
    """What a checked file holds, in words."""
    if report.problems:
        rows = {p.row for p in report.problems if p.row is not None}
        where = f" in {plural(len(rows), 'row')}" if rows else ""
        return f"The file has {plural(len(report.problems), 'problem')}{where}; nothing was written"
    return (
        f"{plural(report.rows, 'row')} ready: {report.appended} to add,"
        f" {report.skipped} already recorded"
    )


def _check(
    app: State, user: ConsoleUser, kind: ImportKind, data: bytes, commit: bool
) -> ImportReport:
    runtime = app.runtime
    return import_csv(
        data,
        kind,
        service=runtime.service,
        people=runtime.people,
        programmes=programme_titles(runtime.queries),
        actor=user.actor,
        commit=commit,
    )


def _dry_run(
    request: Request, user: ConsoleUser, app: State, form: Form, programme: ProgrammeView | None
) -> HTMLResponse:
    """Check the uploaded file, writing nothing, and show what it would do."""
    chosen = form.get("kind")
    kind = _kind(chosen)
    data = form.file("file") or b""
    errors = []
    if kind is None:
        errors.append(FieldError("kind", "Select what the file holds"))
    if not data:
        errors.append(FieldError("file", "Choose the CSV file to check"))
    if kind is None or not data:
        return _upload_page(request, programme, chosen, errors=errors, status=422)
    report = _check(app, user, kind, data, commit=False)
    if report.problems:
        problem = FieldError("problems", _said(report))
        return _upload_page(
            request, programme, kind.value, report=report, errors=[problem], status=422
        )
    carried = base64.b64encode(data).decode("ascii") if report.appended else ""
    return _upload_page(request, programme, kind.value, report=report, data=carried)


@router.get("/console/import")
def import_form(request: Request, user: Registrar, app: State) -> HTMLResponse:
    return _upload_page(request, None, ImportKind.PEOPLE.value)


@router.post("/console/import")
def check_import(request: Request, user: Registrar, app: State, form: Form) -> HTMLResponse:
    return _dry_run(request, user, app, form, None)


@router.get("/console/programmes/{programme_id}/import")
def programme_import_form(
    request: Request, user: Registrar, app: State, programme_id: str
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return _upload_page(request, programme, ImportKind.PEOPLE.value)


@router.post("/console/programmes/{programme_id}/import")
def check_programme_import(
    request: Request, user: Registrar, app: State, form: Form, programme_id: str
) -> HTMLResponse:
    return _dry_run(request, user, app, form, the_programme(app, programme_id))


@router.post("/console/import/commit")
def commit_import(request: Request, user: Registrar, app: State, form: Form) -> Response:
    """Import the file checked, in one batch; if a row has become a problem since it was
    checked, nothing is written and the problems are shown."""
    programme_id = form.get("programme_id")
    programme = the_programme(app, programme_id) if programme_id else None
    kind = _kind(form.get("kind"))
    try:
        data = base64.b64decode(form.get("data"), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if kind is None or not data:
        problem = FieldError("file", "The checked file did not come back whole; upload it again")
        return _upload_page(
            request, programme, ImportKind.PEOPLE.value, errors=[problem], status=422
        )
    report = _check(app, user, kind, data, commit=True)
    if report.problems:
        problem = FieldError("problems", _said(report))
        return _upload_page(
            request, programme, kind.value, report=report, errors=[problem], status=422
        )
    settle(app, report.positions)
    if report.appended:
        flash(
            request,
            f"Imported {plural(report.rows, 'row')}: {report.appended} added,"
            f" {report.skipped} already recorded.",
        )
    else:
        flash(request, f"Nothing new: all {plural(report.rows, 'row')} were already recorded.")
    return redirect(f"/console/programmes/{programme_id}" if programme else "/console/import")


@router.get("/console/import/templates/{kind}.csv")
def import_template(
    request: Request, user: Registrar, app: State, kind: ImportKind, programme: str = ""
) -> Response:
    """The kind's columns and one fictitious example row; for a programme, the example row
    names it."""
    title = the_programme(app, programme).title if programme else None
    return Response(
        template_for(kind, title),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{kind.value}.csv"',
            "Cache-Control": "no-store",
        },
    )
