"""`/v1` commands: every step of a trainer's path, one POST each, retry-safe."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ledger.api.deps import (
    Admin,
    AppState,
    AttendanceTaker,
    Committee,
    IdempotencyKey,
    Recorder,
    State,
    Tutor,
    run_command,
)
from ledger.api.lean_commands import LEAN
from ledger.api.models import (
    AppealCreate,
    AppealDecision,
    AttendanceRecord,
    CourseCreate,
    Created,
    Dated,
    EnrolmentCreate,
    Erasure,
    InstructorCreate,
    LicenceCreate,
    MaterialCreate,
    NameVisibility,
    PersonCreate,
    PersonRef,
    Problem,
    ProgrammeCreate,
    ProjectCreate,
    PublicListing,
    QualificationCreate,
    Reason,
    ScopeReduction,
    SignOff,
    Suspension,
    WeekCreate,
)

PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (401, 403, 404, 409, 422, 429)
}
router = APIRouter(prefix="/v1", responses=PROBLEMS)
post = router.post


Route = Callable[..., object]


def created(
    on: APIRouter, path: str, summary: str, tags: list[str | Enum]
) -> Callable[[Route], Route]:
    """A command route: 201 with the receipt (id, log positions, projected). Its usual case
    may be run without the framework's per-request machinery (ledger.api.lean_commands)."""
    declare = on.post(
        path, status_code=201, response_model=Created, summary=summary, tags=list(tags)
    )

    def register(endpoint: Route) -> Route:
        LEAN.add(endpoint)
        return declare(endpoint)

    return register


def _created(path: str, summary: str, tags: list[str | Enum]) -> Callable[[Route], Route]:
    return created(router, path, summary, tags)


# -- programmes, material, people ------------------------------------------------------------


@_created("/programmes", "Open a programme (cohort)", ["programmes"])
def open_programme(
    body: ProgrammeCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        "programmes",
        body.model_dump_json(),
        lambda: app.runtime.service.open_programme(
            who.actor, body.title, body.starts_on, body.ends_on, body.material_version, body.policy
        ),
    )


@_created("/programmes/{programme_id}/weeks", "Schedule an in-class week", ["programmes"])
def schedule_week(
    programme_id: str, body: WeekCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"weeks {programme_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.schedule_week(
            who.actor,
            programme_id,
            body.number,
            body.starts_on,
            body.ends_on,
            body.place,
            body.modules,
        ),
    )


@_created("/materials", "Publish a material version", ["programmes"])
def publish_material(
    body: MaterialCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        "materials",
        body.model_dump_json(),
        lambda: app.runtime.service.publish_material(who.actor, body.version, body.title, body.on),
    )


def name_duplicates(app: AppState, answer: object) -> object:
    """Add each possible duplicate's details to a 409 possible-duplicate answer, read from their
    encrypted records now (the stored answer, replayed for a repeated Idempotency-Key, holds
    only their ids)."""
    if not isinstance(answer, JSONResponse) or answer.status_code != 409:
        return answer
    body = json.loads(bytes(answer.body))
    if not str(body.get("type", "")).endswith("/possible-duplicate"):
        return answer
    people = [app.runtime.service.person(d["person_id"]) for d in body["duplicates"]]
    body["duplicates"] = [
        {
            "person_id": str(person.id),
            "name": person.name,
            "email": person.email,
            "organisation": person.organisation,
            "region": person.region,
            "country": person.country,
        }
        for person in people
    ]
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "idempotent-replayed"}
    return JSONResponse(body, 409, headers=headers, media_type=answer.media_type)


@_created("/people", "Register a person (personal data encrypted per person)", ["people"])
def register_person(
    body: PersonCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    """A person whose email, or whose name and organisation, match someone already registered
    (case, accents and spacing aside) is not registered: the answer is 409 possible-duplicate
    listing the matches. Send the same body with `confirm_duplicate: true` to register anyway,
    or use the person found."""
    answer = run_command(
        app,
        key,
        who,
        "people",
        body.model_dump_json(),
        lambda: app.runtime.service.register_person(
            who.actor,
            body.name,
            body.email,
            body.organisation,
            body.region,
            body.country,
            confirm_duplicate=body.confirm_duplicate,
        ),
    )
    return name_duplicates(app, answer)


@_created("/people/{person_id}/courses", "Record a local course delivered", ["people"])
def record_course(
    person_id: str, body: CourseCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"courses {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.record_course(
            who.actor,
            person_id,
            body.delivered_on,
            body.region,
            body.participants,
            body.full_programme,
            body.observed_by,
        ),
    )


@_created("/people/{person_id}/name-visibility", "Hide or show the holder's name", ["people"])
def name_visibility(
    person_id: str, body: NameVisibility, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"visibility {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.set_name_hidden(who.actor, person_id, body.hidden),
    )


@_created(
    "/people/{person_id}/public-listing", "Opt in to or out of the public register", ["people"]
)
def public_listing(
    person_id: str, body: PublicListing, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"listing {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.set_public_listing(who.actor, person_id, body.listed),
    )


@_created(
    "/people/{person_id}/erasure",
    "Erase a person's personal data (the key is destroyed); `reason` is a code: request,"
    " consent-withdrawn, objection, unlawful, legal-obligation or retention-ended",
    ["people"],
)
def erase(
    person_id: str, body: Erasure, who: Admin, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"erasure {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.erase_person(who.actor, person_id, body.reason),
    )


# -- enrolment and attendance ----------------------------------------------------------------


@_created("/programmes/{programme_id}/enrolments", "Enrol a person", ["enrolments"])
def enrol(
    programme_id: str, body: EnrolmentCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"enrol {programme_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.enrol(who.actor, programme_id, body.person_id, body.consortium),
    )


@_created(
    "/programmes/{programme_id}/enrolments/{person_id}/withdrawal",
    "Withdraw an enrolment",
    ["enrolments"],
)
def withdraw(
    programme_id: str,
    person_id: str,
    body: Reason,
    who: Recorder,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    return run_command(
        app,
        key,
        who,
        f"withdraw {programme_id} {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.withdraw(
            who.actor, programme_id, person_id, body.reason, body.on
        ),
    )


@_created(
    "/programmes/{programme_id}/enrolments/{person_id}/attendance",
    "Record attendance of a week",
    ["enrolments"],
)
def attendance(
    programme_id: str,
    person_id: str,
    body: AttendanceRecord,
    who: AttendanceTaker,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    """Recording the same value again appends nothing; a value other than the one recorded is
    refused (409): correct it with `.../attendance/{week}/correction` and a reason. Tutors: for
    a programme whose field project they tutor, when its policy has `tutors_record_attendance`
    1."""
    return run_command(
        app,
        key,
        who,
        f"attendance {programme_id} {person_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.record_attendance(
            who.actor, programme_id, person_id, body.week, body.attended
        ),
    )


# -- field projects --------------------------------------------------------------------------


@_created("/projects", "Register a field project", ["projects"])
def register_project(
    body: ProjectCreate, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        "projects",
        body.model_dump_json(),
        lambda: app.runtime.service.register_project(
            who.actor,
            body.programme_id,
            body.cluster_initiative,
            body.sector,
            body.region,
            body.country,
        ),
    )


@_created("/projects/{project_id}/members", "Assign a team member (R1)", ["projects"])
def assign_member(
    project_id: str, body: PersonRef, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"member {project_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.assign_member(who.actor, project_id, body.person_id),
    )


@_created("/projects/{project_id}/tutor", "Assign the tutor (R1)", ["projects"])
def assign_tutor(
    project_id: str, body: PersonRef, who: Recorder, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"tutor {project_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.assign_tutor(who.actor, project_id, body.person_id),
    )


@_created(
    "/projects/{project_id}/sign-off",
    "Sign off a project: its own tutor only (R3, R10)",
    ["projects"],
)
def sign_off(
    project_id: str, body: SignOff, who: Tutor, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"sign-off {project_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.sign_off(who.actor, project_id, body.note, body.on),
    )


@_created(
    "/projects/{project_id}/return", "Return a project for rework: its own tutor only", ["projects"]
)
def return_project(
    project_id: str, body: Reason, who: Tutor, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"return {project_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.return_project(who.actor, project_id, body.reason, body.on),
    )


# -- committee decisions ---------------------------------------------------------------------


@_created("/qualifications", "Award Associate Trainer (R2, R3, R4, R10)", ["decisions"])
def award(
    body: QualificationCreate, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        "qualifications",
        body.model_dump_json(),
        lambda: app.runtime.service.award_qualification(
            who.actor, body.programme_id, body.person_id, body.on
        ),
    )


@_created("/licences", "Grant a licence (R5, R10)", ["decisions"])
def grant(body: LicenceCreate, who: Committee, app: State, key: IdempotencyKey = None) -> object:
    return run_command(
        app,
        key,
        who,
        "licences",
        body.model_dump_json(),
        lambda: app.runtime.service.grant_licence(
            who.actor,
            body.qualification_id,
            body.regions,
            body.languages,
            body.material_version,
            body.on,
        ),
    )


@_created("/licences/{certificate_id}/renewal", "Renew a licence (R6)", ["decisions"])
def renew(
    certificate_id: str, body: Dated, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"renew {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.renew_licence(who.actor, certificate_id, body.on),
    )


@_created("/licences/{certificate_id}/suspension", "Suspend a licence (R7)", ["decisions"])
def suspend(
    certificate_id: str, body: Suspension, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"suspend {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.suspend_licence(
            who.actor, certificate_id, body.reason, body.until, body.on
        ),
    )


@_created(
    "/licences/{certificate_id}/reinstatement", "Reinstate a suspended licence (R7)", ["decisions"]
)
def reinstate(
    certificate_id: str, body: Dated, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"reinstate {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.reinstate_licence(who.actor, certificate_id, body.on),
    )


@_created("/licences/{certificate_id}/scope-reduction", "Reduce a licence's scope", ["decisions"])
def reduce_scope(
    certificate_id: str,
    body: ScopeReduction,
    who: Committee,
    app: State,
    key: IdempotencyKey = None,
) -> object:
    return run_command(
        app,
        key,
        who,
        f"scope {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.reduce_scope(
            who.actor, certificate_id, body.regions, body.languages, body.reason, body.on
        ),
    )


@_created("/licences/{certificate_id}/revocation", "Revoke a licence (R8)", ["decisions"])
def revoke(
    certificate_id: str, body: Reason, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"revoke {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.revoke_licence(who.actor, certificate_id, body.reason, body.on),
    )


@_created("/instructor-certifications", "Certify an instructor (R9)", ["decisions"])
def certify(
    body: InstructorCreate, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        "instructors",
        body.model_dump_json(),
        lambda: app.runtime.service.certify_instructor(who.actor, body.licence_id, body.on),
    )


@_created(
    "/instructor-certifications/{certificate_id}/renewal",
    "Renew an instructor certification",
    ["decisions"],
)
def renew_instructor(
    certificate_id: str, body: Dated, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"renew-instructor {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.renew_instructor(who.actor, certificate_id, body.on),
    )


@_created(
    "/instructor-certifications/{certificate_id}/revocation",
    "Revoke an instructor certification",
    ["decisions"],
)
def revoke_instructor(
    certificate_id: str, body: Reason, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"revoke-instructor {certificate_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.revoke_instructor(
            who.actor, certificate_id, body.reason, body.on
        ),
    )


# -- appeals -----------------------------------------------------------------------------------


@_created("/appeals", "Lodge an appeal against a decision (R11)", ["appeals"])
def lodge(body: AppealCreate, who: Recorder, app: State, key: IdempotencyKey = None) -> object:
    return run_command(
        app,
        key,
        who,
        "appeals",
        body.model_dump_json(),
        lambda: app.runtime.service.lodge_appeal(
            who.actor, body.certificate_id, body.decision_version, body.grounds, body.on
        ),
    )


@_created(
    "/appeals/{appeal_id}/decision",
    "Decide an appeal: an independent panel member (R11)",
    ["appeals"],
)
def decide(
    appeal_id: str, body: AppealDecision, who: Committee, app: State, key: IdempotencyKey = None
) -> object:
    return run_command(
        app,
        key,
        who,
        f"decide {appeal_id}",
        body.model_dump_json(),
        lambda: app.runtime.service.decide_appeal(
            who.actor, appeal_id, body.outcome, body.reasoning, body.on
        ),
    )
