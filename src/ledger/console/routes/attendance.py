"""Console pages: a programme's attendance. The grid (participants by weeks), a week's form
(a box per participant, one save per week, all or nothing) and the correction of one entry
with its reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ledger.api.deps import State
from ledger.console.attendance_sheet import (
    WeekChanges,
    box_id,
    recorded_now,
    save_week,
    sheet_rows,
    week_changes,
)
from ledger.console.frame import FieldError, plural, render
from ledger.console.pages import done
from ledger.console.programme_access import AttendanceTaker, keeps_records, the_programme
from ledger.console.programme_forms import message_of, refusal, rehearse, status_of
from ledger.console.programme_read import Names, ParticipantView, ProgrammeView, WeekView
from ledger.console.session import (
    ADMIN,
    REGISTRAR,
    TUTOR,
    ConsoleRefusal,
    ConsoleUser,
    Form,
    Registrar,
    Staff,
    flash,
    redirect,
)
from ledger.domain.errors import DomainError

router = APIRouter()

TAKERS = (ADMIN, REGISTRAR, TUTOR)


def the_week(programme: ProgrammeView, number: int) -> WeekView:
    found = programme.week(number)
    if found is None:
        raise ConsoleRefusal(
            404, f"Week {number} is not scheduled in this programme.", title="Page not found"
        )
    return found


def the_participant(programme: ProgrammeView, person_id: str) -> ParticipantView:
    found = programme.participant(person_id)
    if found is None:
        raise ConsoleRefusal(
            404, "This person is not enrolled in this programme.", title="Page not found"
        )
    return found


@router.get("/console/programmes/{programme_id}/attendance")
def attendance_grid(request: Request, user: Staff, app: State, programme_id: str) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return render(
        request,
        "programmes_attendance.html",
        title=f"Attendance of {programme.title}",
        programme=programme,
    )


# -- a week ----------------------------------------------------------------------------------------


def _why_not(app: State, user: ConsoleUser, programme_id: str, week: int) -> str | None:
    """Why the signed-in person cannot record this week (None: they can)."""
    if user.role not in TAKERS:
        return "Attendance is recorded by the registrar (and by tutors where a programme allows)."
    refused = rehearse(
        app.runtime.service,
        lambda service: service.record_week_attendance(user.actor, programme_id, week, ()),
    )
    return None if refused is None else message_of(refused)


def _week_page(
    request: Request,
    app: State,
    user: ConsoleUser,
    programme: ProgrammeView,
    week: WeekView,
    *,
    ticked: set[str] | None = None,
    reason: str = "",
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    may_correct = keeps_records(user)
    rows = sheet_rows(programme, week.number, may_correct=may_correct, ticked=ticked)
    editable = [row for row in rows if row.editable]
    return render(
        request,
        "programmes_attendance_week.html",
        title=f"Attendance of week {week.number}",
        status=status,
        errors=errors,
        programme=programme,
        week=week,
        rows=rows,
        editable=editable,
        may_correct=may_correct,
        recorded_any=any(row.recorded is not None for row in rows),
        why_not=_why_not(app, user, programme.programme_id, week.number),
        reason=reason,
    )


@router.get("/console/programmes/{programme_id}/attendance/{week}")
def week_form(
    request: Request, user: Staff, app: State, programme_id: str, week: int
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    return _week_page(request, app, user, programme, the_week(programme, week))


@router.post("/console/programmes/{programme_id}/attendance/{week}")
def save_week_attendance(
    request: Request,
    user: AttendanceTaker,
    app: State,
    form: Form,
    programme_id: str,
    week: int,
) -> Response:
    programme = the_programme(app, programme_id)
    scheduled = the_week(programme, week)
    service = app.runtime.service
    shown = form.getlist("participant")
    ticked = set(form.getlist("attended"))
    reason = form.get("reason")
    changes = week_changes(shown, ticked, recorded_now(service, programme_id, shown, week))
    if not keeps_records(user):
        # Only registrars and admins correct; anyone else's change of a recorded entry goes
        # to the service as a new entry, which refuses it and says to correct it instead.
        changes = WeekChanges(changes.new + changes.corrected, ())
    names = Names(app.runtime)
    first = box_id(shown[0]) if shown else "main"

    def again(problems: list[FieldError], status: int) -> HTMLResponse:
        return _week_page(
            request,
            app,
            user,
            programme,
            scheduled,
            ticked=ticked,
            reason=reason,
            errors=problems,
            status=status,
        )

    if changes.corrected and not reason.strip():
        who = ", ".join(names(person) for person, _ in changes.corrected)
        problem = FieldError(
            "reason",
            f"Give the reason for changing what was recorded for {who}: a correction needs one",
        )
        return again([problem], 422)
    if changes.empty:
        flash(request, f"Week {week}: nothing to save, everything shown was already recorded.")
        return redirect(f"/console/programmes/{programme_id}/attendance")
    try:
        receipt = save_week(service, user.actor, programme_id, week, changes, reason)
    except DomainError as refused:
        problems = refusal(
            refused,
            first,
            fields={"reason": "reason"},
            labels={"reason": "Reason", "week": f"Week {week}"},
            item_field=box_id,
            item_name=names,
        )
        return again(problems, status_of(refused))
    attended = sum(1 for _, present in changes.new if present)
    said = f"Week {week} saved: {attended} attended, {len(changes.new) - attended} absent"
    if changes.corrected:
        said += f"; {plural(len(changes.corrected), 'correction')} with your reason"
    return done(request, app, receipt, said + ".", f"/console/programmes/{programme_id}/attendance")


# -- correcting one entry --------------------------------------------------------------------------


def _correction_page(
    request: Request,
    programme: ProgrammeView,
    week: WeekView,
    person: ParticipantView,
    attended: str,
    reason: str = "",
    errors: list[FieldError] | tuple[FieldError, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "programmes_correction.html",
        title=f"Correct the attendance of week {week.number}",
        status=status,
        errors=errors,
        programme=programme,
        week=week,
        person=person,
        recorded=person.attendance.get(week.number),
        attended=attended,
        reason=reason,
    )


@router.get("/console/programmes/{programme_id}/attendance/{week}/{person_id}/correction")
def correction_form(
    request: Request, user: Registrar, app: State, programme_id: str, week: int, person_id: str
) -> HTMLResponse:
    programme = the_programme(app, programme_id)
    scheduled = the_week(programme, week)
    person = the_participant(programme, person_id)
    recorded = person.attendance.get(week)
    proposed = "" if recorded is None else ("no" if recorded else "yes")
    return _correction_page(request, programme, scheduled, person, proposed)


@router.post("/console/programmes/{programme_id}/attendance/{week}/{person_id}/correction")
def correct_entry(
    request: Request,
    user: Registrar,
    app: State,
    form: Form,
    programme_id: str,
    week: int,
    person_id: str,
) -> Response:
    programme = the_programme(app, programme_id)
    scheduled = the_week(programme, week)
    person = the_participant(programme, person_id)
    answer, reason = form.get("attended"), form.get("reason")
    recorded = person.attendance.get(week)

    def again(problems: list[FieldError], status: int) -> HTMLResponse:
        return _correction_page(
            request, programme, scheduled, person, answer, reason, problems, status
        )

    problems = []
    if answer not in ("yes", "no"):
        problems.append(FieldError("attended", f"Select whether {person.name} attended"))
    elif recorded is not None and (answer == "yes") == recorded:
        problems.append(
            FieldError(
                "attended",
                f"Week {week} is already recorded as {'attended' if recorded else 'absent'};"
                " select the other answer to correct it",
            )
        )
    if not reason.strip():
        problems.append(FieldError("reason", "Give the reason for the correction"))
    if problems:
        return again(problems, 422)
    try:
        receipt = app.runtime.service.correct_attendance(
            user.actor, programme_id, person_id, week, answer == "yes", reason
        )
    except DomainError as refused:
        found = refusal(
            refused,
            "attended",
            fields={"reason": "reason", "week": "attended"},
            labels={"reason": "Reason", "week": "Week"},
        )
        return again(found, status_of(refused))
    now = "attended" if answer == "yes" else "absent"
    said = f"Correction saved: week {week} is now recorded as {now}, with your reason."
    return done(
        request, app, receipt, said, f"/console/programmes/{programme_id}/attendance/{week}"
    )
