"""Health, readiness and Prometheus metrics.

`/healthz` says only that the process lives (it touches nothing else); `/readyz` whether this
process can take writes now, within `ready_timeout_ms` whatever the database does (see
ledger.api.readiness). Both are `async`: they never wait for the request thread pool, which
requests stuck on an unreachable database may have filled.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ledger.api.deps import AppState, State
from ledger.api.models import Health
from ledger.api.problems import problem_response
from ledger.api.readiness import Readiness, readiness_for

router = APIRouter(tags=["operations"])

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "ledger_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "ledger_http_request_seconds",
    "HTTP request duration",
    ["route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
LOG_SIZE = Gauge("ledger_log_size", "records in the transparency log", registry=REGISTRY)
CHECKPOINT_SIZE = Gauge(
    "ledger_checkpoint_size", "size of the newest checkpoint", registry=REGISTRY
)
RENDERS = Counter(
    "ledger_public_renders",
    "PDFs, credentials and bundles rendered afresh (cache misses)",
    ["kind"],
    registry=REGISTRY,
)
LAG = Gauge("ledger_projection_lag", "records not yet applied", ["projection"], registry=REGISTRY)


_readiness_lock = threading.Lock()


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
async def healthz() -> object:
    """The process is up (nothing else is looked at: not the database, not the disk)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"description": "not ready: a check failed or did not answer in time"}},
)
async def readyz(request: Request) -> Response:
    """Ready when the database answers and is writable, the disk has room, the background
    worker (if this process runs one) is alive, and the log and projections have caught up with
    what was stored at start and stay close to the newest record. `checks` says which failed."""
    ready, checks = await _readiness(request.app).check()
    log = checks["log"]
    extra = {k: log[k] for k in ("log_size", "projections") if k in log}
    if ready:
        return JSONResponse({"status": "ok", **extra, "checks": checks})
    failing = "; ".join(f"{name}: {c['detail']}" for name, c in checks.items() if not c["ok"])
    settings = request.app.state.ledger.runtime.settings
    return problem_response(
        503,
        "not-ready",
        "Not ready",
        failing,
        headers={"Retry-After": str(settings.retry_after_s)},
        checks=checks,
        **extra,
    )


def _readiness(app: FastAPI) -> Readiness:
    """This app's readiness checks, made at the first probe."""
    with _readiness_lock:
        found = getattr(app.state, "readiness", None)
        if not isinstance(found, Readiness):
            ledger: AppState = app.state.ledger
            found = readiness_for(
                ledger.runtime.settings, ledger.runtime.db, ledger.worker, app.state.baseline
            )
            app.state.readiness = found
        return found


@router.get("/metrics", response_class=Response)
def metrics(app: State) -> Response:
    """Prometheus text format."""
    LOG_SIZE.set(app.runtime.public_log.size())
    latest = app.runtime.public_log.latest_checkpoint()
    CHECKPOINT_SIZE.set(0 if latest is None else latest.size)
    for status in app.runtime.runner.status():
        LAG.labels(status.name).set(status.lag)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
