"""`GET /register`: the public register, the valid certificates of holders who opted in.

It is the only public list of certificates: each entry links to its verification page, and names
its holder unless they asked for the name to be hidden. Nobody else's certificate id, person id
or name can be listed without a token (docs/privacy.md).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ledger.api.deps import State
from ledger.api.display import show
from ledger.api.page import KINDS, page
from ledger.api.routes.commands import PROBLEMS
from ledger.api.routes.lists import CSV, csv_response
from ledger.credentials.holder import public_holder
from ledger.runtime import Runtime

router = APIRouter(tags=["verification"], responses=PROBLEMS)
HIDDEN = "not shown (at the holder's request)"


def register_entries(
    runtime: Runtime, region: str | None, kind: str | None
) -> list[dict[str, Any]]:
    listed = runtime.queries.public_register(runtime.clock.now().date(), region, kind)
    entries = []
    for item in listed:
        name = None
        if not item["name_hidden"]:
            name = public_holder(runtime.service, item["holder"]).name
        entries.append(
            {
                "certificate_id": item["certificate_id"],
                "kind": item["kind"],
                "holder": name,
                "region": item["region"],
                "country": item["country"],
                "valid_until": item["valid_until"],
                "verify": f"/verify/{item['certificate_id']}",
            }
        )
    return entries


REGISTER_CSV_HEADER = (
    "certificate_id",
    "kind",
    "holder",
    "region",
    "country",
    "valid_until",
    "verify",
)


@router.get("/register.csv", responses=CSV, response_class=Response)
def register_csv(
    app: State,
    region: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The public register as CSV: the same entries as `/register` (a hidden name is an empty
    cell)."""
    entries = register_entries(app.runtime, region, kind)
    day = app.runtime.clock.now().date().isoformat()
    return csv_response(
        f"register-{day}.csv",
        REGISTER_CSV_HEADER,
        [[entry[column] for column in REGISTER_CSV_HEADER] for entry in entries],
    )


@router.get("/register", responses={200: {"content": {"text/html": {}}}})
def register(
    request: Request,
    app: State,
    region: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The valid certificates of holders who opted in to the public register (JSON, or an HTML
    page for browsers), optionally of one region or kind."""
    entries = register_entries(app.runtime, region, kind)
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        rows = "".join(
            f"<tr><td><a href='{escape(e['verify'])}'>{show(e['certificate_id'])}</a></td>"
            f"<td>{escape(KINDS.get(e['kind'], e['kind']))}</td>"
            f"<td>{show(e['holder'] or HIDDEN)}</td>"
            f"<td>{show(e['region'])}, {show(e['country'])}</td>"
            f"<td>{show(e['valid_until'] or '—')}</td></tr>"
            for e in entries
        )
        body = (
            "<h1>Public register of certificates</h1><p>Holders who chose to be listed, with a"
            " valid certificate today.</p><table><thead><tr><th scope=col>Certificate</th>"
            "<th scope=col>Kind</th><th scope=col>Holder</th><th scope=col>Region</th>"
            f"<th scope=col>Valid until</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return HTMLResponse(page("Public register of certificates", body))
    return JSONResponse({"certificates": entries}, headers={"Cache-Control": "public, max-age=5"})
