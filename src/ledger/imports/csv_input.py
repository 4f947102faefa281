"""Reading an uploaded CSV file into rows of named cells.

Spreadsheets save CSV in several ways: with or without a UTF-8 byte order mark (Excel's "CSV
UTF-8" writes one), with commas or, where the comma is the decimal mark, semicolons, with CRLF
line ends, and with quoted cells holding separators or line breaks. All of these are read; any
other encoding is refused with the offset of the first byte that is not UTF-8. Rows are numbered
as the spreadsheet shows them: the header is row 1, and a cell with a line break stays one row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ledger.imports.columns import COLUMNS, Columns, ImportKind
from ledger.imports.report import RowProblem, UnreadableFile

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SEPARATORS = (",", ";")
SAVE_AS = "save it from the spreadsheet as CSV UTF-8"


@dataclass(frozen=True)
class Record:
    """One data row: its number as a spreadsheet shows it, and its cells by column name."""

    row: int
    cells: Mapping[str, str]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    separator: str
    records: tuple[Record, ...]


def read_table(data: bytes, kind: ImportKind, *, max_rows: int = MAX_ROWS) -> Table:
    """The rows of `data`, whose header must name the kind's columns (in any order and case).

    Raises `UnreadableFile` naming every problem with the file as a whole: too large, not UTF-8,
    broken quoting, or a header with unknown, missing or repeated columns.
    """
    if len(data) > MAX_BYTES:
        raise UnreadableFile(
            RowProblem(
                None,
                None,
                f"the file has {len(data):,} bytes; at most {MAX_BYTES:,} are read at once:"
                " split it into smaller files",
            )
        )
    columns = COLUMNS[kind]
    text = decode(data)
    separator = sniff_separator(text.split("\n", 1)[0], columns)
    rows = _records(text, separator)
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        raise UnreadableFile(
            RowProblem(
                1, None, f"the file is empty; row 1 must name the columns: {columns.describe()}"
            )
        )
    names = _header(header[1], kind, columns)
    records: list[Record] = []
    for row, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # an empty row, as spreadsheets leave at the end
        if len(records) == max_rows:
            raise UnreadableFile(
                RowProblem(
                    row,
                    None,
                    f"the file has more than {max_rows:,} rows; split it into smaller files",
                )
            )
        extra = [cell for cell in cells[len(names) :] if cell.strip()]
        if extra:
            raise UnreadableFile(
                RowProblem(
                    row,
                    None,
                    f"the row has {len(cells)} cells but the header names {len(names)} columns;"
                    " a cell holding the separator must be quoted",
                )
            )
        padded = [*cells[: len(names)], *[""] * (len(names) - len(cells))]
        records.append(Record(row, dict(zip(names, padded, strict=True))))
    return Table(names, separator, tuple(records))


def decode(data: bytes) -> str:
    """UTF-8 text, without its byte order mark if it has one."""
    if data.startswith(UTF16_BOMS):
        raise UnreadableFile(RowProblem(None, None, f"the file is UTF-16, not UTF-8; {SAVE_AS}"))
    skipped = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skipped + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise UnreadableFile(
            RowProblem(
                None,
                None,
                f"the file is not UTF-8: byte 0x{data[offset]:02X} at offset {offset:,}"
                f" (line {line}) is not UTF-8 text; {SAVE_AS}",
            )
        ) from None


def sniff_separator(header_line: str, columns: Columns) -> str:
    """Comma or semicolon: the one that splits the header into the most known column names
    (then the most columns; a comma when they tie)."""

    def score(separator: str) -> tuple[int, int, int]:
        cells = next(csv.reader([header_line], delimiter=separator), [])
        known = sum(1 for cell in cells if _column_name(cell) in columns.all)
        return known, len(cells), separator == ","

    return max(SEPARATORS, key=score)


def _records(text: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with its row number (1 for the header)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(
                RowProblem(
                    row + 1,
                    None,
                    f"the row cannot be read ({exc}); a quote inside a quoted cell is written"
                    ' twice ("")',
                )
            ) from None
        row += 1
        yield row, cells


def _column_name(cell: str) -> str:
    return cell.strip().casefold()


def _header(cells: list[str], kind: ImportKind, columns: Columns) -> tuple[str, ...]:
    names = tuple(_column_name(cell) for cell in cells)
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(
                RowProblem(
                    1,
                    None,
                    f"header cell {position} is empty; a {kind} import reads the columns"
                    f" {columns.describe()}",
                )
            )
        elif name not in columns.all:
            problems.append(
                RowProblem(
                    1,
                    name,
                    f"unknown column; a {kind} import reads the columns {columns.describe()}",
                )
            )
        elif name in seen:
            problems.append(RowProblem(1, name, "the column is named twice"))
        seen.add(name)
    problems.extend(
        RowProblem(1, name, f"missing column; a {kind} import needs {', '.join(columns.required)}")
        for name in columns.required
        if name not in seen
    )
    if problems:
        raise UnreadableFile(*problems)
    return names
