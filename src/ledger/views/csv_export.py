"""Tables as CSV text: plain UTF-8, comma separated, a header row, RFC 4180 quoting.

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula; a name or a title
typed that way would run when a registrar opens the export. Such text cells are written with a
leading single quote, which spreadsheets show as text. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@")

Cell = str | int | float | bool | None


def cell_text(value: Cell) -> str:
    """One cell as text: empty for None, `true`/`false` for booleans, guarded text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The table as CSV text (CRLF line ends, quoted only where needed, as RFC 4180 says)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell_text(name) for name in header])
    for row in rows:
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue()
