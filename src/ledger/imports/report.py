"""What an import found and did: problems named by row and column, and rows counted."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.imports.columns import ImportKind


@dataclass(frozen=True)
class RowProblem:
    """One thing to fix before the file can be imported.

    `row` is numbered as a spreadsheet shows it (the header is row 1), or None for the file as
    a whole (its encoding or size). Messages never repeat a name, email or organisation from the
    file: answers may be kept (an idempotent request's answer is stored), and personal data is
    kept in clear nowhere but the encrypted records.
    """

    row: int | None
    column: str | None
    message: str
    rule: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message, "rule": self.rule}

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        rule = f" (rule {self.rule})" if self.rule else ""
        return f"{where}: {self.message}{rule}"


class UnreadableFile(Exception):
    """The file as a whole cannot be read (encoding, size, quoting, header): no row is checked."""

    def __init__(self, *problems: RowProblem) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class ImportReport:
    """`rows` data rows were read; `appended` of them add records (or would, on a dry run),
    `skipped` are already recorded. With any problem nothing is written."""

    kind: ImportKind
    rows: int
    appended: int
    skipped: int
    problems: tuple[RowProblem, ...]
    committed: bool = False
    positions: tuple[int, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: what was (or would be) done, or why nothing was."""
        if self.problems:
            rows = {p.row for p in self.problems}
            return (
                f"{len(self.problems)} problem(s) in {len(rows)} row(s) of {self.rows};"
                " nothing was written"
            )
        verb = "appended" if self.committed else "would append"
        return (
            f"{self.rows} row(s) of {self.kind}: {self.appended} {verb},"
            f" {self.skipped} already recorded (skipped)"
        )

    def to_json(self) -> dict[str, object]:
        answer: dict[str, object] = {
            "kind": str(self.kind),
            "rows": self.rows,
            "appended": self.appended,
            "skipped": self.skipped,
            "problems": [p.to_json() for p in self.problems],
            "valid": self.valid,
        }
        if self.committed:
            answer["positions"] = list(self.positions)
        return answer
