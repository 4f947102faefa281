"""The FastAPI application: routers, problem details, metrics, and the background worker."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from ledger.api import docs, problems
from ledger.api.auth import FailureLimiter, TokenStore
from ledger.api.body_limit import BodyLimit
from ledger.api.deps import AppState
from ledger.api.idempotency import IdempotencyStore
from ledger.api.lean_commands import LeanCommands
from ledger.api.observe import Observe
from ledger.api.renders import RenderBudget, RenderCache
from ledger.api.routes import (
    badges,
    bulk,
    commands,
    corrections,
    credentials,
    imports,
    lists,
    log,
    ops,
    queries,
    register,
    reports,
    verify,
)
from ledger.api.security_headers import SecurityHeaders
from ledger.config import Settings
from ledger.console.routes import router as console_router
from ledger.console.session import ConsoleRefusal, console_refusal
from ledger.notices import Listener, projected_channel
from ledger.runtime import Runtime, open_runtime
from ledger.views.positions import log_positions
from ledger.worker import BackgroundWorker

# The answers are counted, timed and logged by ledger.api.observe (Prometheus); FastAPI's own
# OpenTelemetry hooks (in its newer releases) would only ask, on every request, whether an
# OpenTelemetry provider has been set up since.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


def create_app(runtime: Runtime, *, run_worker: bool = True) -> FastAPI:
    worker = BackgroundWorker(runtime) if run_worker else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        listener = _projections_listener(runtime)
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        if listener is not None:
            listener.stop()
        runtime.close()

    app = LedgerAPI(
        title="ledger",
        summary="Certification and licensing ledger (European Foundation for Cluster Excellence)",
        description=(
            "Every step of a trainer's path is a signed event; certificates are verifiable by "
            "anyone; auditors replay the whole history. Commands under /v1 need a bearer token "
            "(`ledger token create`); /verify, /credentials, /register, /.well-known and the log's "
            "checkpoints, keys, leaf hashes and proofs are public; the full log (/log/entries) is "
            "for auditors (docs/privacy.md)."
        ),
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets by ledger.api.docs
        redoc_url=None,
        **_NO_TELEMETRY,
    )
    app.state.ledger = AppState(
        runtime=runtime,
        tokens=TokenStore(runtime.db),
        idempotency=IdempotencyStore(runtime.db, rebuild=_rebuild(runtime, worker)),
        limiter=FailureLimiter(runtime.settings.auth_failures_per_minute),
        renders=RenderCache(RenderBudget(runtime.settings.renders_per_minute)),
        worker=worker,
    )
    with runtime.db.read() as tx:
        from ledger.views.sql import newest_notification

        app.state.baseline = newest_notification(tx, runtime.db)[0]
    app.state.worker = worker
    for error in problems.expected_errors():
        app.add_exception_handler(error, problems.handle_exception)
    app.add_exception_handler(ConsoleRefusal, console_refusal)  # HTML pages for people
    app.add_exception_handler(RequestValidationError, problems.handle_validation)
    app.add_exception_handler(StarletteHTTPException, problems.handle_http)
    app.add_exception_handler(Exception, problems.handle_exception)
    routers = (
        # First: routes are matched in turn, and /verify is the busiest (no other path overlaps).
        verify.router,
        commands.router,
        bulk.router,
        corrections.router,
        imports.router,
        queries.router,
        lists.router,
        reports.router,
        register.router,
        badges.router,  # before credentials: /credentials/X.jwt is not certificate X.jwt
        credentials.router,
        log.router,
        ops.router,
        docs.router,
        console_router,
    )
    for router in routers:
        app.include_router(router)
    docs.document_roles(app)

    # The size limit runs before any route reads the body (and so before authentication); it
    # sits inside `Observe`, so the refusals are counted and its 413 reaches the handlers.
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(Observe)  # every answer counted, timed and logged

    # Added last, so it runs first: the security headers go on every answer, refusals included.
    app.add_middleware(SecurityHeaders)
    return app


class LedgerAPI(FastAPI):
    """The application, with the short path of command POSTs (ledger.api.lean_commands) outside
    every layer of the framework's and ours: it counts, times and heads its own answers, and
    leaves every other request to them. `short_path = False` leaves every request to them."""

    short_path = True

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if not self.short_path:
            return stack
        return LeanCommands(
            stack, api=self, max_bytes=self.state.ledger.runtime.settings.max_body_bytes
        )


def _projections_listener(runtime: Runtime) -> Listener | None:
    """On PostgreSQL, where the worker may run in another process (as deployed, `ledger
    worker`): hear each batch of its runner, so that a request reading its own writes is
    answered when they are in the read models rather than at its next poll."""
    if not runtime.db.postgres:
        return None
    channel = projected_channel(runtime.db.schema)
    heard = runtime.runner.heard
    return Listener(
        runtime.settings, {channel: lambda payload: heard(int(payload))}, "ledger-projected"
    ).start()


def _rebuild(
    runtime: Runtime, worker: BackgroundWorker | None
) -> Callable[[list[int]], tuple[list[int], bool]]:
    """How a replay rebuilds a committed command's answer: as the command would have answered,
    once its events are in the read models (read-your-writes)."""

    def positions(ids: list[int]) -> tuple[list[int], bool]:
        if not ids:
            return [], True
        if worker is not None:
            worker.wake()
        projected = runtime.runner.wait_for(max(ids), timeout=3.0)
        return log_positions(runtime.db, ids), projected

    return positions


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-process serving: settings from LEDGER_*."""
    from ledger import logs

    logs.configure(os.environ.get("LEDGER_LOG_LEVEL", "INFO"))
    settings = Settings.from_env(os.environ)
    run_worker = os.environ.get("LEDGER_RUN_WORKER", "1") != "0"
    return create_app(open_runtime(settings), run_worker=run_worker)
