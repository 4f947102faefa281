"""RFC 9457 problem details for every error, naming the rule or field that failed."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.domain.errors import Conflict, InvalidCommand, NotFound, RuleViolation
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


def to_response(exc: Exception) -> JSONResponse:
    """The problem response for any error the API lets through."""
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
