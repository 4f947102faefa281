"""The three kinds of import and the columns each reads (docs/csv-import.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ImportKind(StrEnum):
    PEOPLE = "people"
    ENROLMENTS = "enrolments"
    ATTENDANCE = "attendance"


@dataclass(frozen=True)
class Columns:
    """A kind's columns, in the order a template lists them."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional

    def describe(self) -> str:
        """The columns in words: `name, email (optional: programme)`."""
        text = ", ".join(self.required)
        if self.optional:
            text += f" (optional: {', '.join(self.optional)})"
        return text


COLUMNS: dict[ImportKind, Columns] = {
    ImportKind.PEOPLE: Columns(
        ("name", "email", "organisation", "region", "country"), ("programme", "consortium")
    ),
    ImportKind.ENROLMENTS: Columns(("email", "programme"), ("consortium",)),
    ImportKind.ATTENDANCE: Columns(("email", "programme", "week", "attended")),
}
