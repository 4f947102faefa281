"""A template per kind of import: the header and one fictitious example row, to fill in."""

from __future__ import annotations

import csv
import io

from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.csv_input import UTF8_BOM

EXAMPLE_PROGRAMME = "1st train the trainers programme in Cluster Management Excellence"
"""The demo's programme (`ledger demo`), so that a template imports into a demo ledger."""

EXAMPLES: dict[ImportKind, dict[str, str]] = {
    ImportKind.PEOPLE: {
        "name": "Ana Ejemplo",
        "email": "ana.ejemplo@example.org",
        "organisation": "Example Cluster Agency",
        "region": "Cantabria",
        "country": "Spain",
        "programme": EXAMPLE_PROGRAMME,
        "consortium": "CIP Call 2011-2012",
    },
    ImportKind.ENROLMENTS: {
        "email": "ana.ejemplo@example.org",
        "programme": EXAMPLE_PROGRAMME,
        "consortium": "CIP Call 2011-2012",
    },
    ImportKind.ATTENDANCE: {
        "email": "ana.ejemplo@example.org",
        "programme": EXAMPLE_PROGRAMME,
        "week": "1",
        "attended": "yes",
    },
}


def template(kind: ImportKind) -> str:
    """The CSV text of the template, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = COLUMNS[kind].all
    writer.writerow(columns)
    writer.writerow([EXAMPLES[kind][column] for column in columns])
    return out.getvalue()


def template_bytes(kind: ImportKind) -> bytes:
    """The template as a file: UTF-8 with a byte order mark, which spreadsheets read as UTF-8
    (without it, some read accented names in a legacy encoding)."""
    return UTF8_BOM + template(kind).encode("utf-8")
