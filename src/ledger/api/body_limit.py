"""Refuse an oversized request body before reading it (and so before authentication).

A declared Content-Length over the limit is answered 413 at once, unread. A body without one
(chunked) is counted as it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api.problems import problem_response


def declared_fit(scope: Scope, limit: int) -> bool | None:
    """Whether the request's declared Content-Length is a number of at most `limit` bytes; None
    when it declares none (a chunked body, counted as it arrives)."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            return value.isdigit() and int(value) <= limit
    return None


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, the most this ledger accepts"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if declared_fit(scope, self.max_bytes) is False:
            response = problem_response(
                413,
                "body-too-large",
                "Request body too large",
                _too_large(self.max_bytes),
                headers={"Connection": "close"},
                limit=self.max_bytes,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI passes an HTTPException through; its handler answers 413
                    raise HTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, counted, send)
