"""The CSV templates offered on the import page: the kind's header and one fictitious example
row, naming the programme the import is for when there is one, so the file imports as it is
once the example is replaced by real rows."""

from __future__ import annotations

import csv
import io

from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.csv_input import UTF8_BOM
from ledger.imports.templates import EXAMPLES


def template_for(kind: ImportKind, programme_title: str | None = None) -> bytes:
    """UTF-8 with a byte order mark (spreadsheets then read accents right), CRLF line ends."""
    example = dict(EXAMPLES[kind])
    if programme_title is not None and "programme" in example:
        example["programme"] = programme_title
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = COLUMNS[kind].all
    writer.writerow(columns)
    writer.writerow([example[column] for column in columns])
    return UTF8_BOM + out.getvalue().encode("utf-8")
