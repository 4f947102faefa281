"""What the people pages' forms share: reading typed answers, a refusal of the service as the
errors a form shows (beside the field it concerns, worded with the field's label, a rule named
first)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ledger.console.frame import FieldError
from ledger.domain.errors import Conflict, DomainError, InvalidCommand, NotFound, RuleViolation


@dataclass(frozen=True)
class Field:
    """A form's input: its id (and name) and the label it is shown with."""

    id: str
    label: str


class Unanswered(ValueError):
    """An answer that cannot be read (no date, not a whole number, nothing chosen)."""

    def __init__(self, error: FieldError) -> None:
        self.error = error
        super().__init__(error.message)


def typed_date(value: str, field: Field) -> date:
    text = value.strip()
    if not text:
        raise Unanswered(FieldError(field.id, f"Enter the {field.label.lower()}"))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unanswered(
            FieldError(field.id, f"{field.label} must be a real date, like 2014-03-02")
        ) from None


def whole_number(value: str, field: Field, least: int = 1) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) < least:
        raise Unanswered(
            FieldError(field.id, f"{field.label} must be a whole number of at least {least}")
        )
    return int(text)


def status_of(error: DomainError) -> int:
    """409 when a rule or what is recorded stands in the way, 422 when an answer is at fault
    (a person named who does not exist included: the answer named them)."""
    if isinstance(error, RuleViolation | Conflict):
        return 409
    return 422


def message_of(error: DomainError, fields: Mapping[str, Field]) -> str:
    """The refusal in words: a rule first ("R5: …"), a field by its label."""
    if isinstance(error, RuleViolation):
        return f"{error.rule}: {error.detail}"
    if isinstance(error, InvalidCommand):
        field = fields.get(error.field)
        label = field.label if field is not None else error.field.replace("_", " ").capitalize()
        return f"{label} {error.detail}"
    if isinstance(error, NotFound):
        return f"There is no {error.kind} {error.ident}"
    text = str(error)
    return text[:1].upper() + text[1:]


def refusal(error: DomainError, fields: Mapping[str, Field], first: str) -> list[FieldError]:
    """The error a form shows for `error`: beside the input it concerns (`fields` maps the
    service's field names to the form's inputs), else beside `first`."""
    where = first
    if isinstance(error, InvalidCommand) and error.field in fields:
        where = fields[error.field].id
    return [FieldError(where, message_of(error, fields))]
