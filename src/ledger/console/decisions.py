"""Which acts the signed-in person may take, found by rehearsing them.

An act is rehearsed in a batch of the service that is dropped without commit: the rules run
exactly as they would for real, nothing is written. A refusal there is the reason the act is
not offered, shown in words naming the rule; an act that passes may show what it would record
(the certificate it would issue, the date a licence would run to) before it is confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from ledger.console.frame import FieldError, long_date, render
from ledger.console.session import ADMIN, COMMITTEE, REGISTRAR, ConsoleUser, roles
from ledger.domain.actors import Role
from ledger.domain.errors import Conflict, DomainError, InvalidCommand, NotFound, RuleViolation
from ledger.service import LedgerService, Receipt

ROLE_WORDS = {
    Role.ADMIN: "administrator",
    Role.REGISTRAR: "registrar",
    Role.TUTOR: "tutor",
    Role.COMMITTEE: "committee member",
    Role.AUDITOR: "auditor",
}


@dataclass(frozen=True)
class Rehearsal:
    """An act tried without writing: its refusal, or what it would have recorded (`receipt`,
    readable through `service`, the dropped batch's view of the ledger)."""

    refusal: DomainError | None
    receipt: Receipt | None
    service: LedgerService

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def rehearse(service: LedgerService, act: Callable[[LedgerService], Receipt]) -> Rehearsal:
    """Run `act` in a batch that is never committed."""
    batch = service.batch()
    try:
        receipt = act(batch.service)
    except DomainError as refused:
        return Rehearsal(refused, None, batch.service)
    return Rehearsal(None, receipt, batch.service)


def rule_of(error: DomainError | None) -> str | None:
    return error.rule if isinstance(error, RuleViolation) else None


def in_words(error: DomainError, me: str | None = None) -> str:
    """A refusal as staff read it: the rule first ("R10: …"), and the signed-in person, whom
    the rules name by their person id, as "you"."""
    text = str(error)
    if isinstance(error, InvalidCommand):
        text = error.detail[:1].upper() + error.detail[1:]
    if me:
        text = text.replace(f"{me} is the person", "you are the person").replace(me, "you")
    return text


ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

FIELD_LABELS = {
    "on": "Date of effect",
    "until": "Suspended until",
    "regions": "Regions",
    "languages": "Languages",
    "material_version": "Material version",
    "reason": "Reason",
    "grounds": "Grounds",
    "reasoning": "Reasoning",
    "outcome": "Outcome",
    "decision_version": "Decision appealed",
    "certificate_id": "Certificate id",
}


def written_out(text: str) -> str:
    """ISO dates in a sentence written out as people read them ("19 July 2013")."""

    def day(found: re.Match[str]) -> str:
        try:
            return long_date(found.group(0))
        except ValueError:
            return found.group(0)

    return ISO_DAY.sub(day, text)


def refusal_words(error: DomainError, me: str | None = None) -> str:
    """A refusal as a page shows it: `in_words`, beginning with a capital, dates written out,
    and input at fault named by its label ("Date of effect: …")."""
    text = written_out(in_words(error, me))
    if isinstance(error, InvalidCommand) and error.field in FIELD_LABELS:
        return f"{FIELD_LABELS[error.field]}: {text[:1].lower()}{text[1:]}"
    return text[:1].upper() + text[1:]


def status_of(error: DomainError) -> int:
    """422 for input at fault, 404 for a missing record, 409 for a rule or the state."""
    if isinstance(error, InvalidCommand):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, (RuleViolation, Conflict)):
        return 409
    return 422


def field_error(
    error: DomainError,
    first_field: str,
    me: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> FieldError:
    """The refusal placed on the form: at the input it names (`fields` maps the command's
    field names to input ids, defaulting to the same name), else at the form's first field
    (or, for a rule, at the input `fields` names for it)."""
    known = dict(fields or {})
    target = first_field
    if isinstance(error, InvalidCommand):
        target = known.get(error.field, error.field if error.field in known.values() else target)
    elif isinstance(error, RuleViolation):
        target = known.get(error.rule, first_field)
    return FieldError(target, refusal_words(error, me))


def name_of(service: LedgerService, person_id: str | None) -> str:
    """A person's name for staff, or the id as it stands when it names no person (a staff
    id, a system actor)."""
    if not person_id:
        return ""
    try:
        return service.person(person_id).name
    except DomainError:
        return person_id


def actor_words(service: LedgerService, actor_id: str, role: str | None = None) -> str:
    """Who acted: a person by name, a staff member by their pseudonymous staff id."""
    shown = name_of(service, actor_id)
    if role not in {r.value for r in Role}:
        return shown
    return f"{shown} ({ROLE_WORDS[Role(role)]})"


def parse_day(value: str, today: date) -> date | None:
    """A date typed as YYYY-MM-DD (blank: today); None when it is not a date."""
    text = value.strip()
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def listed(text: str) -> tuple[str, ...]:
    """Values typed as a comma separated list, each trimmed, blanks left out."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def not_found(request: Request, what: str, ident: str) -> HTMLResponse:
    """The page for an id that names nothing of its kind (404)."""
    return render(
        request,
        "decisions_missing.html",
        title=f"No such {what}",
        status=404,
        what=what,
        ident=ident,
    )


Deciders = Annotated[ConsoleUser, Depends(roles(ADMIN, REGISTRAR, COMMITTEE))]
"""Who reads the committee's pages: the committee, and the registrar and administrator who
prepare its work (and lodge appeals)."""
