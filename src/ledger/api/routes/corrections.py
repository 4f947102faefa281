"""`/v1` corrections: each a new signed event with a reason and the acting staff id, never an
edit. A correction that a later decision relied on is refused, naming the rule and the decision
(certificate and date); the reason is personal data, encrypted under the person it concerns.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ledger.api.deps import IdempotencyKey, Recorder, SignOffWithdrawer, State, run_command
from ledger.api.models import AttendanceCorrection, Correction, DuplicateMark
from ledger.api.routes.commands import PROBLEMS, created

router = APIRouter(prefix="/v1", responses=PROBLEMS)
Week = Annotated[int, Path(ge=1, le=100, description="the week's number in the programme")]


@created(
    router,
    "/programmes/{programme_id}/enrolments/{person_id}/attendance/{week}/correction",
    "Correct a week's attendance (R2)",
    ["corrections"],
)
def correct_attendance(
    programme_id: str,
    person_id: str,
    week: Week,
    body: AttendanceCorrection,
    who: Recorder,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """Refused (R2) when it would make absent someone whose Associate Trainer qualification
    counted that week."""
    return run_command(
        app,
        key,
        who,
        f"attendance-correction {programme_id} {person_id} {week}",
        body.model_dump_json(),
        lambda: app.runtime.service.correct_attendance(
            who.actor, programme_id, person_id, week, body.attended, body.reason
        ),
    )


@created(
    router,
    "/people/{person_id}/courses/{delivery_id}/retraction",
    "Retract a course recorded by mistake (R5, R6, R9)",
    ["corrections"],
)
def retract_course(
    person_id: str,
    delivery_id: str,
    body: Correction,
    who: Recorder,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """Refused when a licence, renewal or instructor certification counted the course."""
    return run_command(
        app,
        key,
        who,
        f"course-retraction {person_id} {delivery_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.retract_course(who.actor, person_id, delivery_id, body.reason),
    )


@created(
    router,
    "/projects/{project_id}/sign-off/withdrawal",
    "Withdraw a project's sign-off (R3)",
    ["corrections"],
)
def withdraw_sign_off(
    project_id: str,
    body: Correction,
    who: SignOffWithdrawer,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """The project is open again. Tutors: their own project only. Refused (R3) once a member's
    qualification relies on the sign-off."""
    return run_command(
        app,
        key,
        who,
        f"sign-off-withdrawal {project_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.withdraw_sign_off(who.actor, project_id, body.reason),
    )


@created(
    router,
    "/people/{person_id}/duplicate-of",
    "Mark a person as a duplicate of another",
    ["corrections"],
)
def mark_duplicate(
    person_id: str,
    body: DuplicateMark,
    who: Recorder,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """`person_id` in the path is the duplicate, `person_id` in the body the person kept: from
    then on the duplicate's records read as the kept person's, and commands naming the
    duplicate are refused. Refused when both are enrolled in the same programme."""
    return run_command(
        app,
        key,
        who,
        f"duplicate {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.mark_duplicate(
            who.actor, person_id, body.person_id, body.reason
        ),
    )
