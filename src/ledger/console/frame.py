"""What every page is drawn with: the templates, the navigation of the signed-in role, the
error summary of a form, and the static files (CSS and a small script of our own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ledger.api.language import mark, page_language, switch
from ledger.domain.actors import Role
from ledger.i18n import DEFAULT, long_day, translation

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# English in macros imported without the page's context (the staff pages import them so).
environment.install_null_translations()  # type: ignore[attr-defined]
PUBLIC_TEMPLATES = ("front_", "access_")
"""Templates anyone may see (the front door, sign-in, invitations): drawn in the reader's
language; the staff pages behind sign-in are in English."""

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
KIND_NAMES = {
    "associate_trainer": "Associate Trainer",
    "licence": "Licence",
    "instructor": "Instructor Certification",
}
STATUS_NAMES = {
    "valid": "Valid",
    "suspended": "Suspended",
    "revoked": "Revoked",
    "expired": "Expired",
    "unknown": "Not yet issued",
}


def long_date(value: date | datetime | str | None) -> str:
    """A date written out, as people read it ("19 July 2013"); an ISO date or time is read
    first; nothing (None, "") reads as an empty string, so optional dates need no test.
    The staff pages are in English: the public pages' `long_day` in English."""
    return long_day(value, DEFAULT)


def long_time(value: datetime | str | None) -> str:
    """A moment written out in UTC ("19 July 2013 at 14:05 UTC")."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = value.astimezone(UTC) if value.tzinfo is not None else value
    return f"{long_date(moment)} at {moment:%H:%M} UTC"


def kind_name(kind: str | None) -> str:
    """A certificate kind in words ("Associate Trainer")."""
    return KIND_NAMES.get(kind or "", kind or "Certificate")


def status_name(status: str | None) -> str:
    """A certificate status in words ("Suspended")."""
    return STATUS_NAMES.get(status or "unknown", status or "Unknown")


def plural(count: int, one: str, many: str | None = None) -> str:
    """ "1 week", "3 weeks": the count with its noun."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


environment.filters.update(
    long_date=long_date,
    long_time=long_time,
    kind_name=kind_name,
    status_name=status_name,
    plural=plural,
)


@dataclass(frozen=True)
class Link:
    href: str
    label: str


NAVIGATION: dict[Role, tuple[Link, ...]] = {
    Role.ADMIN: (
        Link("/console", "What needs doing"),
        Link("/console/people", "People"),
        Link("/console/programmes", "Programmes"),
        Link("/console/licences", "Certificates"),
        Link("/console/appeals", "Appeals"),
        Link("/console/reports", "Reports"),
        Link("/console/staff", "Staff"),
    ),
    Role.REGISTRAR: (
        Link("/console", "What needs doing"),
        Link("/console/people", "People"),
        Link("/console/programmes", "Programmes"),
        Link("/console/licences", "Certificates"),
        Link("/console/appeals", "Appeals"),
        Link("/console/reports", "Reports"),
    ),
    Role.TUTOR: (
        Link("/console", "What needs doing"),
        Link("/console/people", "People"),
        Link("/console/programmes", "Programmes"),
    ),
    Role.COMMITTEE: (
        Link("/console", "What needs doing"),
        Link("/console/people", "People"),
        Link("/console/programmes", "Programmes"),
        Link("/console/licences", "Certificates"),
        Link("/console/appeals", "Appeals"),
        Link("/console/reports", "Reports"),
    ),
    Role.AUDITOR: (
        Link("/console", "What needs doing"),
        Link("/console/reports", "Reports"),
    ),
}


@dataclass(frozen=True)
class FieldError:
    """A form field's problem, worded the same in the summary and beside the field."""

    field: str
    message: str


def errors_of(problems: Sequence[FieldError]) -> dict[str, str]:
    """The first message per field, for the templates' `field_error(errors, name)`."""
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(problem.field, problem.message)
    return found


def render(
    request: Request,
    template: str,
    *,
    title: str,
    status: int = 200,
    errors: Sequence[FieldError] = (),
    **context: Any,
) -> HTMLResponse:
    """A page: `template` (extending base.html) with the signed-in user, their navigation,
    the CSRF token for its forms and the form's errors (an error summary at the top)."""
    user = getattr(request.state, "console_user", None)
    public = template.startswith(PUBLIC_TEMPLATES)
    language = page_language(request) if public else DEFAULT
    messages = translation(language, "web")
    values: Mapping[str, Any] = {
        "lang": language,
        "languages": switch(request, language) if public else [],
        "gettext": messages.gettext,
        "ngettext": messages.ngettext,
        "_": messages.gettext,
        "request": request,
        "title": title,
        "user": user,
        "navigation": NAVIGATION.get(user.role, ()) if user is not None else (),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "errors": list(errors),
        "error_for": errors_of(errors),
        "path": request.url.path,
        "flashes": list(getattr(request.state, "flashes", ())),
        **context,
    }
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    return mark(response, request, language) if public else response
