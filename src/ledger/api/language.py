"""The language of a public page, from its request: the switch (`?lang=`), the cookie that
remembers it, or `Accept-Language`; and what the answer says about it (`Content-Language`,
`Vary`, the cookie)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request, Response

from ledger.i18n import COOKIE, LANGUAGES, NAMES, choose, supported

YEAR = 365 * 24 * 3600
R = TypeVar("R", bound=Response)


@dataclass(frozen=True)
class Choice:
    """One entry of the language switch."""

    code: str
    name: str
    href: str
    current: bool


def page_language(request: Request) -> str:
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language"),
    )


def switch(request: Request, current: str) -> list[Choice]:
    """Links to this same page in each language (its other query parameters kept)."""
    choices = []
    for code in LANGUAGES:
        query = request.url.include_query_params(lang=code).query
        choices.append(Choice(code, NAMES[code], f"{request.url.path}?{query}", code == current))
    return choices


def mark(response: R, request: Request, language: str) -> R:
    """Say the page's language, that it varies with the request's preferences, and remember a
    language chosen with the switch (a cookie of no personal meaning, readable by scripts)."""
    response.headers["Content-Language"] = language
    vary = response.headers.get("Vary")
    response.headers["Vary"] = ", ".join(v for v in (vary, "Accept-Language", "Cookie") if v)
    if supported(request.query_params.get("lang")) == language:
        response.set_cookie(COOKIE, language, max_age=YEAR, samesite="lax", path="/")
    return response
