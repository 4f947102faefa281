"""`/v1` queries: trainer status (with `as_of` and `known_at`), history, roster, certificates,
personal data (for the Foundation's staff), and the auditor export."""

from __future__ import annotations

import io
import tarfile
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ledger.api.auth import Principal
from ledger.api.deps import Admin, Auditor, Reader, Recorder, State
from ledger.api.models import CertificateStatus, PersonOut, TrainerStatus
from ledger.api.problems import Problem
from ledger.api.read_models import RosterOut, TrainerHistory
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.lists import CSV, STAFF_ROLES, csv_response, name_of
from ledger.audit.bundle import export_bundle
from ledger.console.accounts import Accounts
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import NotFound
from ledger.views.history import history
from ledger.views.roster import ROSTER_CSV_HEADER, describe_roster, roster_csv_rows

router = APIRouter(prefix="/v1", responses=PROBLEMS)

AsOf = Annotated[date | None, Query(description="answer for this date (valid time); default today")]
KnownAt = Annotated[
    int | None, Query(ge=0, description="answer as the ledger knew it at this log size")
]


def certificate_out(status: dict[str, Any]) -> dict[str, Any]:
    facts = status["facts"]
    return {
        "certificate_id": status["certificate_id"],
        "kind": facts["kind"],
        "status": status["status"],
        "since": status["since"],
        "until": status["until"],
        "reason": status["reason"],
        "holder_id": facts["holder"],
        "valid_from": facts["valid_from"],
        "valid_until": facts["valid_until"],
        "scope": facts["scope"],
        "suspensions": facts["suspensions"],
        "revoked_on": facts["revoked_on"],
        "evidence": facts.get("evidence"),
        "events": facts["events"],
    }


def _today(app: State) -> date:
    return app.runtime.clock.now().date()


@router.get("/trainers/{person_id}/status", response_model=TrainerStatus, tags=["queries"])
def trainer_status(
    person_id: str, who: Reader, app: State, as_of: AsOf = None, known_at: KnownAt = None
) -> object:
    found = app.runtime.queries.trainer_status(person_id, as_of or _today(app), known_at)
    if found is None:
        raise NotFound("trainer", person_id)
    found["certificates"] = [certificate_out(c) for c in found["certificates"]]
    return found


@router.get("/trainers/{person_id}/history", response_model=TrainerHistory, tags=["queries"])
def trainer_history(person_id: str, who: Reader, app: State) -> object:
    """Every record of the trainer's own stream, enrolments, field project and certificates,
    and those of people merged into them, in log order; for staff, each correction's reason."""
    person = app.runtime.service.person(person_id)
    return history(app.runtime.queries, str(person.id), staff=who.role in STAFF_ROLES)


@router.get("/certificates/{certificate_id}", response_model=CertificateStatus, tags=["queries"])
def certificate(
    certificate_id: str, who: Reader, app: State, as_of: AsOf = None, known_at: KnownAt = None
) -> object:
    _, normal = parse_certificate_id(certificate_id)
    found = app.runtime.queries.certificate_status(normal, as_of or _today(app), known_at)
    if found is None or found["facts"] is None:
        raise NotFound("certificate", normal)
    return certificate_out(found)


def _roster(app: State, who: Principal, programme_id: str, as_of: date | None) -> dict[str, Any]:
    staff = who.role in STAFF_ROLES
    found = describe_roster(
        app.runtime.queries, programme_id, as_of, name_of(app) if staff else None
    )
    if found is None:
        raise NotFound("programme", programme_id)
    return found


@router.get("/programmes/{programme_id}/roster", response_model=RosterOut, tags=["queries"])
def roster(programme_id: str, who: Reader, app: State, as_of: AsOf = None) -> object:
    """Per participant: weeks attended of those required, field project and sign-off, award,
    each rule R1 to R4 met or not with a sentence, and what is missing; names for staff.
    With `as_of`, attendance, sign-offs and awards as they stood on that date."""
    return _roster(app, who, programme_id, as_of)


@router.get(
    "/programmes/{programme_id}/roster.csv",
    tags=["queries"],
    responses=CSV,
    response_class=Response,
)
def roster_csv(programme_id: str, who: Reader, app: State, as_of: AsOf = None) -> Response:
    """The roster as CSV, one row per participant (names for staff)."""
    found = _roster(app, who, programme_id, as_of)
    day = as_of or _today(app)
    return csv_response(
        f"roster-{programme_id}-{day.isoformat()}.csv", ROSTER_CSV_HEADER, roster_csv_rows(found)
    )


@router.get("/people/{person_id}", response_model=PersonOut, tags=["people"])
def person(person_id: str, who: Recorder, app: State) -> object:
    found = app.runtime.service.person(person_id)
    return {
        "person_id": str(found.id),
        "name": found.name,
        "email": found.email,
        "organisation": found.organisation,
        "region": found.region,
        "country": found.country,
        "erased": found.erased,
        "name_hidden": found.name_hidden,
        "listed": found.listed,
    }


@router.get("/staff", tags=["people"])
def staff(who: Admin, app: State) -> dict[str, list[dict[str, str]]]:
    """Who each pseudonymous staff id in the records is (the API token's name, or the console
    account's username, and the role): for administrators only (docs/privacy.md)."""
    known = [*app.tokens.staff(), *Accounts(app.runtime.db).staff()]
    return {
        "staff": [
            {"staff_id": staff_id, "name": name, "role": role}
            for staff_id, name, role in sorted(known)
        ]
    }


@router.get(
    "/audit/export",
    tags=["audit"],
    responses={200: {"content": {"application/gzip": {}}, "description": "the auditor bundle"}},
    response_class=Response,
)
def audit_export(who: Auditor, app: State) -> Response:
    """The auditor bundle (`ledger export`) as a .tar.gz; verify it with `ledger audit`."""
    runtime = app.runtime
    if runtime.public_log.latest_checkpoint() is None:
        raise Problem(409, "conflict", "Nothing signed yet", "the log has no checkpoint yet")
    statuses = runtime.runner.status()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "bundle"
        export_bundle(
            runtime.log_storage,
            runtime.store.signing.keyring,
            target,
            projections={
                s.name: {"version": s.version, "digest": s.digest, "position": s.position}
                for s in statuses
            },
        )
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(target, arcname="bundle")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        buffer.getvalue(),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="ledger-bundle-{stamp}.tar.gz"'},
    )
