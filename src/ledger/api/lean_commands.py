"""The usual case of a command POST, run without the framework's per-request machinery.

A command's own work (checks, signing, its share of a group commit and of the projections) is
about a millisecond; the framework's walk through its middleware, its route table and its
dependency solver cost as much again, on the one interpreter every request shares. This ASGI
layer, the outermost of the application, takes a POST to a command route (declared with
`ledger.api.routes.commands.created`) when the request is of the usual kind — a JSON body of a
declared length within the size limit that validates against the route's model, and a bearer
token whose holder has one of the route's roles — and calls the route's own function with what
the framework would have passed it: the path's values, the validated body, the token's holder,
the application state and the Idempotency-Key. Everything else about the request is left to the
framework exactly as before: a body without a length or over the limit, one that does not
validate, a missing, unknown or revoked token, a role not allowed, a media type other than
JSON. So the refusals, their problem details, the limit on failed authentications and the
OpenAPI document are the framework's, unchanged; only the path of the usual case is shorter.

What the application's own layers do for every answer, this path does for the answers it gives:
each is counted and timed under its route template (ledger.api.observe) and carries the
security headers (ledger.api.security_headers). An error raised by the route's function is
answered by the handler the application registered for it, as the framework would.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api import loop_bridge, observe, security_headers
from ledger.api.auth import PERSONAL_ROLES, Principal
from ledger.api.body_limit import declared_fit
from ledger.api.deps import Allow, AppState, state

LEAN: set[Callable[..., object]] = set()
"""The route functions declared as commands (`created`): the candidates for the short path."""

_JSON = re.compile(r"application/json\s*(;.*)?", re.IGNORECASE)


@dataclass(frozen=True)
class _Plan:
    """How to call one command route's function, read off its declared parameters."""

    route: APIRoute
    body_name: str
    model: type[BaseModel]
    principal_name: str
    roles: tuple[Any, ...]
    state_name: str
    key_name: str


def plan(route: APIRoute) -> _Plan | None:
    """The plan for `route`, or None when its parameters are not all of the kinds this path
    knows (text path values, one JSON body model, the role check, the state, the key)."""
    dependant = route.dependant
    if route.endpoint not in LEAN or route.methods != {"POST"}:
        return None
    if dependant.query_params or dependant.cookie_params or len(dependant.body_params) != 1:
        return None
    if any(f.field_info.annotation is not str for f in dependant.path_params):
        return None
    headers = dependant.header_params
    if len(headers) != 1 or headers[0].alias != "Idempotency-Key":
        return None
    body = dependant.body_params[0]
    model = body.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    allow = [d for d in dependant.dependencies if isinstance(d.call, Allow)]
    states = [d for d in dependant.dependencies if d.call is state]
    if len(allow) != 1 or len(states) != 1 or len(dependant.dependencies) != 2:
        return None
    check = allow[0].call
    assert isinstance(check, Allow)
    names = (allow[0].name, states[0].name)
    if any(name is None for name in names):
        return None
    return _Plan(
        route,
        body.name,
        model,
        str(allow[0].name),
        check.roles,
        str(states[0].name),
        headers[0].name,
    )


class LeanCommands:
    """ASGI middleware: the usual case of a command POST straight to the route's function."""

    def __init__(self, app: ASGIApp, api: FastAPI, max_bytes: int) -> None:
        self.app = app
        self.api = api
        self.max_bytes = max_bytes
        self._routes: list[tuple[str, BaseRoute, _Plan | None]] | None = None
        self.served = 0  # requests answered here, not by the framework
        # On SQLite the route's function runs on the loop's thread (ledger.api.loop_bridge).
        self.on_loop = not api.state.ledger.runtime.db.postgres

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        found = self._match(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        chosen, params = found
        if not declared_fit(scope, self.max_bytes):  # the size limit answers it
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        messages: list[Message] = []
        body = await _read(receive, messages)
        replay = _replaying(messages, receive)
        call = self._call(scope, chosen, params, body)
        if call is None:
            await self.app(scope, replay, send)
            return
        scope["route"] = chosen.route  # as the router would: counted under its template
        scope["path_params"] = params
        try:
            if self.on_loop:
                result = await loop_bridge.run(call)
            else:
                result = await anyio.to_thread.run_sync(call)
        except Exception as exc:
            result = await self._handled(scope, replay, exc)
        if result is None:  # the token does not admit this call: the framework answers
            await self.app(scope, replay, send)
            return
        if not isinstance(result, Response):
            raise TypeError(f"{chosen.route.path}: a command answers with a Response")
        self.served += 1
        status = 500

        async def answered(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                security_headers.add_to(message)
            await send(message)

        try:
            await result(scope, replay, answered)
        finally:
            observe.record(scope, status, started)

    def _match(self, scope: Scope) -> tuple[_Plan, dict[str, str]] | None:
        """The route the router would choose for this request, if it is a planned command."""
        if self._routes is None:
            self._routes = [
                (_literal_prefix(r), r, plan(r) if isinstance(r, APIRoute) else None)
                for r in tried_routes(self.api.router.routes)
            ]
        path = scope["path"]
        for prefix, route, chosen in self._routes:
            if not path.startswith(prefix):
                continue
            match, child = route.matches(scope)
            if match is Match.FULL:
                if chosen is None:
                    return None
                return chosen, dict(child.get("path_params", {}))
        return None

    def _call(
        self, scope: Scope, chosen: _Plan, params: dict[str, str], body: bytes
    ) -> Callable[[], object] | None:
        """The call of the route's function for this request, or None to leave it all to the
        framework (not JSON, no bearer token, a body that does not validate)."""
        headers = _headers(scope)
        media = headers.get("content-type", "")
        if not _JSON.fullmatch(media):
            return None
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            data = json.loads(body)
            validated = chosen.model.model_validate(data)
        except (ValueError, ValidationError):
            return None
        app: AppState = self.api.state.ledger
        key = headers.get("idempotency-key")

        def call() -> object:
            who = _admitted(app, token, chosen.roles)
            if who is None:
                return None
            arguments: dict[str, Any] = {
                **params,
                chosen.body_name: validated,
                chosen.principal_name: who,
                chosen.state_name: app,
                chosen.key_name: key,
            }
            return chosen.route.endpoint(**arguments)

        return call

    async def _handled(self, scope: Scope, receive: Receive, exc: Exception) -> Response:
        """The answer of the handler the application registered for `exc` (by its class, as
        the framework's exception middleware looks it up)."""
        handlers = self.api.exception_handlers
        for kind in type(exc).__mro__:
            handler = handlers.get(kind)
            if handler is not None:
                answer = handler(Request(scope, receive), exc)
                if not isinstance(answer, Response):
                    answer = await answer
                assert isinstance(answer, Response)
                return answer
        raise exc


def _admitted(app: AppState, token: str, roles: tuple[Any, ...]) -> Principal | None:
    """The token's holder when the route admits them as they are; None otherwise (unknown,
    revoked, a role not allowed, a personal role without its person: the framework refuses)."""
    who = app.tokens.authenticate(token)
    if who is None or who.role not in roles:
        return None
    if who.role in PERSONAL_ROLES and not who.person_id:
        return None
    return who


def tried_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes in the order the router tries them. Newer releases of the framework keep an
    included router as one entry: its routes are tried in their order there, and when it was
    included with a prefix or dependencies of its own, it is kept whole (never planned)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        own: tuple[object, object] = (
            getattr(context, "prefix", ""),
            getattr(context, "dependencies", None),
        )
        if inner is None or any(own):
            yield route
        else:
            yield from tried_routes(list(inner.routes))


def _literal_prefix(route: BaseRoute) -> str:
    path = str(getattr(route, "path", ""))
    return path.split("{", 1)[0]


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name, the first of each (as the framework reads a
    single header)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


async def _read(receive: Receive, messages: list[Message]) -> bytes:
    """The request's body; every message read is kept in `messages`."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` for whoever reads the request next: the messages already read, then the rest."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
