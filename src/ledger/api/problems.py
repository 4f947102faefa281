"""RFC 9457 problem details for every error, naming the rule or field that failed."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
from ledger.views.queries import QueryError

PROBLEM_JSON = "application/problem+json"
BASE = "https://ledger.efce.example/problems/"


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
    server-error path, which logs them as crashes and closes the client's connection."""
    return (Problem, DomainError, QueryError, LogRequestError, IntegrityError)


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


def to_response(exc: Exception) -> JSONResponse:
    """The problem response for any error the API lets through."""
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
    if isinstance(exc, Conflict):
        return problem_response(409, "conflict", "Conflict", str(exc))
    if isinstance(exc, IntegrityError):
        return problem_response(500, "integrity-failure", "Stored data does not verify", str(exc))
    return problem_response(500, "internal", "Internal error", "the request could not be completed")


async def handle_exception(_: Request, exc: Exception) -> JSONResponse:
    return to_response(exc)


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
