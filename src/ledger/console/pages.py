"""How an accepted form ends, the same on every console page (Post/Redirect/Get): wait until
what the command wrote can be read back, so the next page shows it (read-your-writes, as the
API's commands answer), say on that page what was done, and go there."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ledger.api.deps import AppState
from ledger.console.session import flash, redirect
from ledger.service import Receipt


def settle(app: AppState, positions: tuple[int, ...]) -> bool:
    """Wait (a moment at most) until the read models include the log `positions` just
    written; False when they did not catch up in time."""
    if not positions:
        return True
    if app.worker is not None:
        app.worker.wake()
    return app.runtime.runner.wait_for(max(positions), timeout=3.0)


def done(request: Request, app: AppState, receipt: Receipt, said: str, then: str) -> Response:
    """The end of a form the service accepted: settle what it wrote, say `said` on the next
    page, and go to `then`."""
    settle(app, receipt.positions)
    flash(request, said)
    return redirect(then)
