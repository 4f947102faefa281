"""What the programme pages' forms share: reading typed answers from a posted form, turning a
refusal of the service into the errors a form shows, and rehearsing a command to learn whether
it would be refused.

A refusal is worded for people: a rule is named first ("R3: only the project's own tutor can
sign it off"), a field by the label the form shows it with, and an item of a batch by the
person it concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from ledger.console.frame import FieldError
from ledger.domain.errors import (
    BatchRefused,
    Conflict,
    DomainError,
    InvalidCommand,
    NotFound,
    RuleViolation,
)
from ledger.service import LedgerService


class Unanswered(ValueError):
    """A form's answer that cannot be read (not a date, not a whole number)."""

    def __init__(self, error: FieldError) -> None:
        self.error = error
        super().__init__(error.message)


def optional_date(value: str, field: str, label: str) -> date | None:
    """A date typed in a date field (ISO, as browsers send it); empty means none."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unanswered(
            FieldError(field, f"{label} must be a real date, like 2013-05-03")
        ) from None


def required_date(value: str, field: str, label: str) -> date:
    found = optional_date(value, field, label)
    if found is None:
        raise Unanswered(FieldError(field, f"Enter the {label.lower()}"))
    return found


def whole_number(value: str, field: str, label: str, least: int = 0) -> int:
    value = value.strip()
    if not value.isdigit() or int(value) < least:
        raise Unanswered(FieldError(field, f"{label} must be a whole number of at least {least}"))
    return int(value)


def status_of(error: DomainError) -> int:
    """409 when the request clashes with a rule or with what is recorded, 404 when it names
    something that does not exist, 422 when an answer is at fault."""
    if isinstance(error, BatchRefused):
        settled = all(isinstance(e, RuleViolation | Conflict) for _, e in error.problems)
        return 409 if settled else 422
    if isinstance(error, RuleViolation | Conflict):
        return 409
    if isinstance(error, NotFound):
        return 404
    return 422


def message_of(error: DomainError, labels: Mapping[str, str] | None = None) -> str:
    """The refusal in words: the rule first, or the field by its label."""
    if isinstance(error, RuleViolation):
        return f"{error.rule}: {error.detail}"
    if isinstance(error, InvalidCommand):
        label = (labels or {}).get(error.field, error.field.replace("_", " "))
        return f"{label[:1].upper()}{label[1:]}: {error.detail}"
    return str(error)


def refusal(
    error: DomainError,
    first_field: str,
    *,
    fields: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    item_field: Callable[[str], str] | None = None,
    item_name: Callable[[str], str] | None = None,
) -> list[FieldError]:
    """The errors a form shows for `error`: beside the field it concerns (`fields` maps the
    service's field names to the form's input ids), else beside `first_field`. Each refused
    item of a batch is shown beside its own input (`item_field`), named (`item_name`)."""
    if isinstance(error, BatchRefused):
        found = []
        for label, problem in error.problems:
            who = item_name(label) if item_name is not None else label
            where = item_field(label) if item_field is not None else first_field
            found.append(FieldError(where, f"{who}: {message_of(problem, labels)}"))
        return found
    where = first_field
    if isinstance(error, InvalidCommand):
        where = (fields or {}).get(error.field, first_field)
    return [FieldError(where, message_of(error, labels))]


def rehearse(
    service: LedgerService, command: Callable[[LedgerService], object]
) -> DomainError | None:
    """Why `command` would be refused now (None: it would be done): run in a batch that is
    dropped unwritten, so a page offers an act only when it can be taken, and otherwise says
    why not."""
    batch = service.batch()
    try:
        command(batch.service)
    except DomainError as refused:
        return refused
    return None
