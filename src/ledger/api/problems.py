"""RFC 9457 problem details for every error, naming the rule or field that failed."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.api import availability
from ledger.config import Settings
from ledger.domain.errors import (
    BatchRefused,
    Conflict,
    DomainError,
    InvalidCommand,
    NotFound,
    PossibleDuplicate,
    RuleViolation,
)
from ledger.integrity.errors import IntegrityError
from ledger.log.public import LogRequestError
from ledger.store.person_keys import PersonalDataUnavailable
from ledger.views.queries import QueryError

PROBLEM_JSON = "application/problem+json"
BASE = "https://ledger.efce.example/problems/"
RETRY_AFTER_S = 2
log = logging.getLogger("ledger.api")


class Problem(Exception):
    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: Any) -> None:
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = extra.pop("headers", {}) or {}
        super().__init__(detail)


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors answered as problem details by the exception middleware. Registering their
    handlers by class, not only through the catch-all for `Exception`, keeps them off the
    server-error path, which logs them as crashes and closes the client's connection. The
    database drivers' errors are among them: most mean the database is away (503)."""
    return (
        Problem,
        DomainError,
        QueryError,
        LogRequestError,
        IntegrityError,
        PersistenceError,
        psycopg.Error,
        sqlite3.Error,
        OSError,
    )


def problem_response(
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": BASE + kind, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def refused_item(item: str, error: DomainError) -> dict[str, str | None]:
    """One refused item of a batch: the rule or the field at fault, and why."""
    return {
        "item": item,
        "rule": error.rule if isinstance(error, RuleViolation) else None,
        "field": error.field if isinstance(error, InvalidCommand) else None,
        "detail": str(error),
    }


def batch_refused(exc: BatchRefused) -> JSONResponse:
    """Every refused item at once, so a whole batch can be fixed in one go. Nothing was
    written: 409 when every item clashes with a rule or the current state (the request is
    well formed), 422 when some item's input is at fault."""
    errors = [refused_item(item, error) for item, error in exc.problems]
    settled = all(isinstance(e, RuleViolation | Conflict) for _, e in exc.problems)
    count = len(errors)
    return problem_response(
        409 if settled else 422,
        "batch-refused",
        f"{count} item{'s' if count != 1 else ''} of the batch refused; nothing was written",
        "; ".join(f"{e['item']}: {e['detail']}" for e in errors),
        errors=errors,
    )


def unavailable(cause: str, retry_after: int = RETRY_AFTER_S) -> JSONResponse:
    """503: the database is away (or full, or read-only); the request may be sent again, a
    command with the same Idempotency-Key (it may have been written before the failure)."""
    return problem_response(
        503,
        "unavailable",
        "Service unavailable",
        f"{availability.DETAILS[cause]}; send the request again later",
        headers={"Retry-After": str(retry_after)},
        cause=cause,
    )


def to_response(exc: Exception, retry_after: int = RETRY_AFTER_S) -> JSONResponse:
    """The problem response for any error the API lets through. A 5xx is the caller's to log
    (with the traceback); a 503 is never worth storing for a replay."""
    if isinstance(exc, BatchRefused):
        return batch_refused(exc)
    if isinstance(exc, PossibleDuplicate):
        # Only ids here: an answer may be stored for an Idempotency-Key replay, and personal
        # data is never stored in clear. The route adds each match's details when it answers.
        return problem_response(
            409,
            "possible-duplicate",
            "Possible duplicate",
            f"{len(exc.matches)} person(s) already registered match this email, or this name"
            " and organisation; send confirm_duplicate: true to register anyway",
            duplicates=[{"person_id": match} for match in exc.matches],
        )
    if isinstance(exc, Problem):
        return problem_response(
            exc.status, exc.kind, exc.title, exc.detail, headers=exc.headers, **exc.extra
        )
    if isinstance(exc, RuleViolation):
        return problem_response(
            422,
            "rule-violation",
            f"Blocked by rule {exc.rule}",
            str(exc),
            rule=exc.rule,
            missing=exc.detail,
        )
    if isinstance(exc, InvalidCommand | QueryError | LogRequestError):
        return problem_response(
            422, "invalid-field", f"Invalid value for {exc.field}", str(exc), field=exc.field
        )
    if isinstance(exc, NotFound):
        return problem_response(404, "not-found", f"No such {exc.kind}", str(exc))
    if isinstance(exc, PersonalDataUnavailable):
        return problem_response(
            409,
            "personal-data-unavailable",
            "Personal data not available here",
            str(exc),
            person_id=exc.person,
        )
    if isinstance(exc, Conflict):
        return problem_response(409, "conflict", "Conflict", str(exc))
    if isinstance(exc, IntegrityError):
        return problem_response(500, "integrity-failure", "Stored data does not verify", str(exc))
    cause = availability.unavailable_cause(exc)
    if cause is not None:
        availability.TRACKER.failed(cause)
        return unavailable(cause, retry_after)
    return problem_response(500, "internal", "Internal error", "the request could not be completed")


async def handle_exception(request: Request, exc: Exception) -> JSONResponse:
    response = to_response(exc, _retry_after(request))
    if response.status_code >= 500:
        route = getattr(request.scope.get("route"), "path", "unmatched")
        cause = availability.unavailable_cause(exc)
        log.error(
            "request failed" if cause is None else f"request failed: {cause}",
            exc_info=exc,
            extra={"method": request.method, "route": route, "status": response.status_code},
        )
    return response


def _retry_after(request: Request) -> int:
    state = getattr(request.app.state, "ledger", None)
    settings = getattr(getattr(state, "runtime", None), "settings", None)
    return settings.retry_after_s if isinstance(settings, Settings) else RETRY_AFTER_S


async def handle_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]),
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "malformed"}
    return problem_response(
        422,
        "invalid-field",
        f"Invalid value for {first['field']}",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=errors,
    )


async def handle_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {
        404: "not-found",
        405: "method-not-allowed",
        401: "unauthorized",
        403: "forbidden",
        413: "body-too-large",
    }
    return problem_response(
        exc.status_code,
        kinds.get(exc.status_code, "http-error"),
        str(exc.detail),
        str(exc.detail),
        headers=getattr(exc, "headers", None),
    )
