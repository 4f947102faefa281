"""The console's routers, combined in one place (`router`), and its static files."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from ledger.console.frame import STATIC
from ledger.console.routes import (
    access,
    committee,
    dashboard,
    front,
    people,
    programmes,
    reports,
    staff,
)

router = APIRouter(include_in_schema=False)
for module in (access, front, dashboard, people, programmes, committee, reports, staff):
    router.include_router(module.router)

MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/console/static/{name}")
def static(name: str) -> FileResponse:
    """The console's own CSS and script (no CDN)."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file() or path.suffix not in MEDIA:
        raise HTTPException(404)
    return FileResponse(
        path, media_type=MEDIA[path.suffix], headers={"Cache-Control": "public, max-age=300"}
    )
