"""Checking one row's cells on their own: required cells present, emails well formed, weeks
numbers, attendance yes or no. What needs the ledger (a programme, a person, a rule) is checked
by `plan`. Every problem of a row is reported, not only its first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from ledger.imports.csv_input import Record
from ledger.imports.report import RowProblem

EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
YES: Final = frozenset({"yes", "y", "true", "1"})
NO: Final = frozenset({"no", "n", "false", "0"})


@dataclass
class Cells:
    """A record's cells, read one column at a time; each read notes the problems it finds."""

    record: Record
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def row(self) -> int:
        return self.record.row

    def problem(self, column: str | None, message: str, rule: str | None = None) -> None:
        self.problems.append(RowProblem(self.row, column, message, rule))

    def optional(self, column: str) -> str | None:
        value = self.record.cells.get(column, "").strip()
        return value or None

    def required(self, column: str) -> str | None:
        value = self.optional(column)
        if value is None:
            self.problem(column, f"is empty; every row needs a {column}")
        return value

    def email(self, column: str = "email") -> str | None:
        value = self.required(column)
        if value is not None and EMAIL.fullmatch(value) is None:
            self.problem(column, "is not an email address (name@example.org)")
            return None
        return value

    def week(self, column: str = "week") -> int | None:
        value = self.required(column)
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            self.problem(column, "is not a week number (1, 2, 3, ...)")
            return None
        return int(value)

    def attended(self, column: str = "attended") -> bool | None:
        value = self.required(column)
        if value is None:
            return None
        answer = value.casefold()
        if answer in YES:
            return True
        if answer in NO:
            return False
        self.problem(column, "must be yes or no")
        return None


@dataclass(frozen=True)
class PersonRow:
    row: int
    name: str
    email: str
    organisation: str
    region: str
    country: str
    programme: str | None
    consortium: str | None


@dataclass(frozen=True)
class EnrolmentRow:
    row: int
    email: str
    programme: str
    consortium: str | None


@dataclass(frozen=True)
class AttendanceRow:
    row: int
    email: str
    programme: str
    week: int
    attended: bool


def person_row(cells: Cells) -> PersonRow | None:
    name = cells.required("name")
    email = cells.email()
    organisation = cells.required("organisation")
    region = cells.required("region")
    country = cells.required("country")
    programme = cells.optional("programme")
    consortium = cells.optional("consortium")
    if consortium is not None and programme is None:
        cells.problem("consortium", "is given without a programme to enrol the person in")
    if (
        name is None
        or email is None
        or organisation is None
        or region is None
        or country is None
        or cells.problems
    ):
        return None
    return PersonRow(cells.row, name, email, organisation, region, country, programme, consortium)


def enrolment_row(cells: Cells) -> EnrolmentRow | None:
    email = cells.email()
    programme = cells.required("programme")
    consortium = cells.optional("consortium")
    if email is None or programme is None:
        return None
    return EnrolmentRow(cells.row, email, programme, consortium)


def attendance_row(cells: Cells) -> AttendanceRow | None:
    email = cells.email()
    programme = cells.required("programme")
    week = cells.week()
    attended = cells.attended()
    if email is None or programme is None or week is None or attended is None:
        return None
    return AttendanceRow(cells.row, email, programme, week, attended)
