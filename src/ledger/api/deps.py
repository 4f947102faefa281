"""Dependencies as `Annotated` aliases, so routes read like declarations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger import waiting
from ledger.api.auth import PERSONAL_ROLES, FailureLimiter, Principal, TokenStore
from ledger.api.client_address import client_of
from ledger.api.idempotency import IdempotencyStore
from ledger.api.problems import Problem
from ledger.api.renders import RenderCache
from ledger.domain.actors import Role
from ledger.runtime import Runtime
from ledger.service import LedgerService, Receipt
from ledger.views.positions import log_positions
from ledger.worker import BackgroundWorker

bearer = HTTPBearer(auto_error=False, description="a token from `ledger token create`")


@dataclass
class AppState:
    runtime: Runtime
    tokens: TokenStore
    idempotency: IdempotencyStore
    limiter: FailureLimiter
    renders: RenderCache
    worker: BackgroundWorker | None = None  # in this process, if it runs one

    def client(self, request: Request) -> str:
        """The client's address (X-Forwarded-For believed only from trusted proxies)."""
        return client_of(request, self.runtime.settings.trusted_proxies)


async def state(request: Request) -> AppState:
    found: AppState = request.app.state.ledger
    return found


State = Annotated[AppState, Depends(state)]


def principal(
    request: Request,
    app: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The token's holder. A valid token is always admitted: the limit on failures applies
    only to requests without one, so others' failures never lock a valid token out."""
    found = app.tokens.authenticate(credentials.credentials) if credentials else None
    if found is not None:
        if found.role in PERSONAL_ROLES and not found.person_id:
            raise Problem(
                403,
                "token-without-person",
                "Token names no person",
                f"a {found.role} token must be bound to the person who acts with it; revoke"
                " it and create a new one with --person",
            )
        return found
    client = app.client(request)
    wait = app.limiter.retry_after(client)
    if wait:
        raise Problem(
            429,
            "too-many-failures",
            "Too many failed authentications",
            f"try again in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )
    if credentials is None:
        raise Problem(
            401,
            "unauthorized",
            "Authentication required",
            "send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    app.limiter.fail(client)
    raise Problem(
        401,
        "unauthorized",
        "Invalid token",
        "the token is unknown or revoked",
        headers={"WWW-Authenticate": "Bearer"},
    )


@dataclass(frozen=True)
class Allow:
    """A dependency admitting only `roles` (403 for other authenticated callers).

    The roles are data, not a closure, so the OpenAPI document states them from the very
    dependency that enforces them (ledger.api.docs). It does no I/O, so it is a coroutine: it
    runs on the event loop, where a plain function would cost a trip to a worker thread."""

    roles: tuple[Role, ...]

    async def __call__(self, who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in self.roles:
            allowed = ", ".join(str(r) for r in self.roles)
            raise Problem(
                403,
                "forbidden",
                "Not allowed for this role",
                f"the {who.role} role may not do this (allowed: {allowed})",
            )
        return who


def allow(*roles: Role) -> Allow:
    return Allow(roles)


ADMIN, REGISTRAR, TUTOR, COMMITTEE, AUDITOR = (
    Role.ADMIN,
    Role.REGISTRAR,
    Role.TUTOR,
    Role.COMMITTEE,
    Role.AUDITOR,
)
Recorder = Annotated[Principal, Depends(allow(ADMIN, REGISTRAR))]
Tutor = Annotated[Principal, Depends(allow(TUTOR))]
AttendanceTaker = Annotated[Principal, Depends(allow(ADMIN, REGISTRAR, TUTOR))]
SignOffWithdrawer = Annotated[Principal, Depends(allow(ADMIN, REGISTRAR, TUTOR))]
Committee = Annotated[Principal, Depends(allow(COMMITTEE))]
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Reader = Annotated[Principal, Depends(allow(ADMIN, REGISTRAR, TUTOR, COMMITTEE, AUDITOR))]
Auditor = Annotated[Principal, Depends(allow(ADMIN, AUDITOR))]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="retry-safe key for this POST")
]


def service(app: State) -> LedgerService:
    return app.runtime.service


Service = Annotated[LedgerService, Depends(service)]


def run_command(
    app: AppState,
    key: str | None,
    who: Principal,
    route: str,
    body: str,
    command: Callable[[], Receipt],
) -> object:
    """Run a command once per Idempotency-Key; answer 201 once its events are projected, with
    their log positions (counted from 0, as /log, /verify and the projections count)."""

    def handler() -> tuple[int, object]:
        receipt = command()
        if not receipt.positions:
            return 201, {"id": receipt.id, "positions": [], "projected": True}
        if app.worker is not None:
            app.worker.wake()
        runner = app.runtime.runner
        last = receipt.last_position
        projected = runner.wait_for(last, timeout=0.0) or waiting.offload(
            lambda: runner.wait_for(last, timeout=3.0)
        )
        positions = runner.known_positions(receipt.positions) or log_positions(
            app.runtime.db, receipt.positions
        )
        return 201, {"id": receipt.id, "positions": positions, "projected": projected}

    return app.idempotency.run(key, who.name, route, body.encode(), handler, kept=False)
