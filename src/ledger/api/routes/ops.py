"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ledger.api.deps import State
from ledger.api.models import Health
from ledger.api.problems import problem_response

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


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> object:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Health, responses={503: {"description": "catching up"}})
def readyz(request: Request, app: State) -> Response:
    """Ready once the log and every projection have caught up with what was stored at start."""
    baseline: int = request.app.state.baseline
    size = app.runtime.public_log.size()
    positions = {s.name: s.position for s in app.runtime.runner.status()}
    body = {"status": "ok", "log_size": size, "projections": positions}
    if size < baseline or min(positions.values(), default=0) < baseline:
        return problem_response(
            503,
            "not-ready",
            "Catching up",
            f"log at {size}, projections at {positions}, {baseline} stored",
        )
    return JSONResponse(body)


@router.get("/metrics", response_class=Response)
def metrics(app: State) -> Response:
    """Prometheus text format."""
    LOG_SIZE.set(app.runtime.public_log.size())
    latest = app.runtime.public_log.latest_checkpoint()
    CHECKPOINT_SIZE.set(0 if latest is None else latest.size)
    for status in app.runtime.runner.status():
        LAG.labels(status.name).set(status.lag)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
