"""Count, time and log every answer: the request counter and latency histogram of /metrics, and
one access-log line per request (method, route template, status, duration).

A plain ASGI middleware: it only watches the answer's start message go by, so a request costs
no task, stream or copy of its body on the way (as a `BaseHTTPMiddleware` would).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api.routes import ops

access = logging.getLogger("ledger.access")


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._observed(scope, receive, send)
        else:  # lifespan messages are not requests
            await self.app(scope, receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # an answer that never started is counted as the server's failure

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            record(scope, status, started)


def record(scope: Scope, status: int, started: float) -> None:
    """Count, time and log one answer (by its route template) that started at `started`."""
    elapsed = time.perf_counter() - started
    template = getattr(scope.get("route"), "path", "unmatched")
    ops.REQUESTS.labels(scope["method"], template, str(status)).inc()
    ops.LATENCY.labels(template).observe(elapsed)
    if access.isEnabledFor(logging.INFO):
        access.info(
            "request",
            extra={
                "method": scope["method"],
                "route": template,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
