"""Console page: one record of the public log and the proof that the log holds it, checked
on the server as anyone could check it with the public log routes (`/log/...`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ledger.api.deps import State
from ledger.console.frame import render
from ledger.console.record_proof import prove
from ledger.console.session import ConsoleRefusal, User

router = APIRouter()


@router.get("/console/records/{position}")
def record(request: Request, position: str, user: User, app: State) -> Response:
    """The record at log position `position`: its type, time, stream, leaf hash, and its
    inclusion proof against the newest signed checkpoint, verified."""
    found = prove(app.runtime, int(position)) if position.isdigit() else None
    if found is None:
        raise ConsoleRefusal(
            404, "The public log has no record at this position.", title="Record not found"
        )
    return render(request, "people_record.html", title=f"Record {found.position}", proof=found)
