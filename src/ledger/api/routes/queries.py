"""`/v1` queries: trainer status (with `as_of` and `known_at`), history, roster, certificates,
personal data (for the Foundation's staff), and the auditor export."""

from __future__ import annotations

import io
import tarfile
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ledger.api.deps import Admin, Auditor, Reader, Recorder, State
from ledger.api.models import (
    CertificateStatus,
    History,
    HistoryEntry,
    PersonOut,
    Roster,
    TrainerStatus,
)
from ledger.api.problems import Problem
from ledger.api.routes.commands import PROBLEMS
from ledger.audit.bundle import export_bundle
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import NotFound

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


@router.get("/trainers/{person_id}/history", response_model=History, tags=["queries"])
def trainer_history(person_id: str, who: Reader, app: State) -> object:
    """Every event of the trainer's own record and certificates, in log order."""
    service = app.runtime.service
    person = service.person(person_id)
    trainer = app.runtime.queries.trainer_status(person_id, _today(app))
    streams = [person.id]
    if trainer is not None:
        for cert in trainer["certificates"]:
            streams.append(UUID(cert["facts"]["stream"]))
    entries = []
    storage = app.runtime.log_storage
    recorder = app.runtime.store.app.recorder
    mapper = app.runtime.store.app.mapper
    for stream in streams:
        for row in recorder.select_events(stream):
            record = mapper.open_stored(row).record  # type: ignore[attr-defined]
            entries.append(
                {
                    "position": storage.leaf_index(stream, record.version),
                    "stream": record.stream,
                    "version": record.version,
                    "type": record.type,
                    "recorded_at": record.recorded_at.isoformat(),
                    "effective_on": record.payload.get("effective_on"),
                    "actor": record.payload["actor"],
                    "role": record.payload["role"],
                }
            )
    entries.sort(key=lambda e: (e["position"] is None, e["position"] or 0, e["recorded_at"]))
    return {"person_id": str(person.id), "events": [HistoryEntry(**e) for e in entries]}


@router.get("/certificates/{certificate_id}", response_model=CertificateStatus, tags=["queries"])
def certificate(
    certificate_id: str, who: Reader, app: State, as_of: AsOf = None, known_at: KnownAt = None
) -> object:
    _, normal = parse_certificate_id(certificate_id)
    found = app.runtime.queries.certificate_status(normal, as_of or _today(app), known_at)
    if found is None or found["facts"] is None:
        raise NotFound("certificate", normal)
    return certificate_out(found)


@router.get("/programmes/{programme_id}/roster", response_model=Roster, tags=["queries"])
def roster(programme_id: str, who: Reader, app: State) -> object:
    found = app.runtime.queries.roster(programme_id)
    if found is None:
        raise NotFound("programme", programme_id)
    return found


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
    """Who each pseudonymous staff id in the records is (the token's name and role): for
    administrators only (docs/privacy.md)."""
    return {
        "staff": [
            {"staff_id": staff_id, "name": name, "role": role}
            for staff_id, name, role in app.tokens.staff()
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
