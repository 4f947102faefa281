"""`/v1` commands for a whole programme at once: many enrolments, a week's attendance.

Each change is still its own signed event; a request is one batch, all or nothing: when any
item is refused, the answer lists every refused item (problem type batch-refused) and nothing is
written. Items that would change nothing (already enrolled, the same attendance) are skipped, so
sending the same request again appends nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ledger.api.deps import AttendanceTaker, IdempotencyKey, Recorder, State, run_command
from ledger.api.models import EnrolmentBatch, WeekAttendance
from ledger.api.routes.commands import PROBLEMS, created

router = APIRouter(prefix="/v1", responses=PROBLEMS)
Week = Annotated[int, Path(ge=1, le=100, description="the week's number in the programme")]


@created(router, "/programmes/{programme_id}/enrolments/batch", "Enrol many people", ["bulk"])
def enrol_many(
    programme_id: str, body: EnrolmentBatch, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    """People already enrolled in the programme are skipped."""
    return run_command(
        app,
        key,
        who,
        f"enrol-many {programme_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.enrol_many(
            who.actor, programme_id, [(p.person_id, p.consortium) for p in body.people]
        ),
    )


@created(
    router,
    "/programmes/{programme_id}/weeks/{week}/attendance",
    "Record a week's attendance for many participants",
    ["bulk"],
)
def record_week_attendance(
    programme_id: str,
    week: Week,
    body: WeekAttendance,
    who: AttendanceTaker,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """Entries equal to what is recorded are skipped; an entry that differs from a recorded
    value is refused (correct it with `.../attendance/{week}/correction`). Tutors: for a
    programme whose field project they tutor, when its policy has `tutors_record_attendance`
    1."""
    return run_command(
        app,
        key,
        who,
        f"week-attendance {programme_id} {week}",
        body.model_dump_json(),
        lambda: app.runtime.service.record_week_attendance(
            who.actor, programme_id, week, [(e.person_id, e.attended) for e in body.entries]
        ),
    )
