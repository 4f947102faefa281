"""Reading CSV files as spreadsheets save them: encodings, separators, quoting, headers."""

from __future__ import annotations

import csv
import io

import pytest

from ledger.imports.columns import COLUMNS, ImportKind
from ledger.imports.csv_input import MAX_BYTES, read_table
from ledger.imports.report import RowProblem, UnreadableFile
from ledger.imports.rows import Cells, attendance_row, person_row
from ledger.imports.templates import template, template_bytes

PEOPLE = ImportKind.PEOPLE
HEADER = "name,email,organisation,region,country"
ROW = "Jana Hrušovská,jana.hrusovska@example.org,Cluster Agentúra,Bratislava,Slovakia"


def problems_of(data: bytes, kind: ImportKind = PEOPLE) -> tuple[RowProblem, ...]:
    with pytest.raises(UnreadableFile) as refused:
        read_table(data, kind)
    return refused.value.problems


def test_utf8_with_and_without_byte_order_mark_read_the_same() -> None:
    plain = read_table(f"{HEADER}\n{ROW}\n".encode(), PEOPLE)
    marked = read_table(b"\xef\xbb\xbf" + f"{HEADER}\n{ROW}\n".encode(), PEOPLE)
    assert plain == marked
    assert plain.records[0].cells["name"] == "Jana Hrušovská"
    assert plain.columns == ("name", "email", "organisation", "region", "country")


def test_semicolons_are_sniffed_from_the_header() -> None:
    table = read_table(
        f"{HEADER.replace(',', ';')}\r\n{ROW.replace(',', ';')}\r\n".encode(), PEOPLE
    )
    assert table.separator == ";"
    assert table.records[0].cells["organisation"] == "Cluster Agentúra"
    assert table.records[0].cells["country"] == "Slovakia"


def test_crlf_line_ends_leave_no_carriage_return_in_cells() -> None:
    table = read_table(f"{HEADER}\r\n{ROW}\r\n{ROW}\r\n".encode(), PEOPLE)
    assert [r.row for r in table.records] == [2, 3]
    assert table.records[1].cells["country"] == "Slovakia"


def test_quoted_cells_keep_separators_quotes_and_line_breaks_and_count_as_one_row() -> None:
    text = (
        f"{HEADER}\r\n"
        '"Ortiz, Ana","ana@example.org","Agency ""North""; Ltd","Line one\r\nline two",Spain\r\n'
        f"{ROW}\r\n"
    )
    table = read_table(text.encode(), PEOPLE)
    first, second = table.records
    assert first.cells["name"] == "Ortiz, Ana"
    assert first.cells["organisation"] == 'Agency "North"; Ltd'
    assert first.cells["region"] == "Line one\r\nline two"
    assert (first.row, second.row) == (2, 3)


def test_header_names_are_case_insensitive_trimmed_and_in_any_order() -> None:
    text = " Country ;EMAIL; name ;Region;Organisation\nSpain;a@example.org;Ana;Cantabria;Agency\n"
    table = read_table(text.encode(), PEOPLE)
    assert table.records[0].cells == {
        "country": "Spain",
        "email": "a@example.org",
        "name": "Ana",
        "region": "Cantabria",
        "organisation": "Agency",
    }


def test_empty_rows_are_skipped_but_keep_their_row_numbers() -> None:
    table = read_table(f"{HEADER}\n\n{ROW}\n,,,,\n{ROW}\n\n".encode(), PEOPLE)
    assert [r.row for r in table.records] == [3, 5]


def test_short_rows_read_their_missing_cells_as_empty() -> None:
    table = read_table(f"{HEADER}\nAna,a@example.org\n".encode(), PEOPLE)
    assert table.records[0].cells["region"] == ""


def test_another_encoding_is_refused_naming_the_byte_offset() -> None:
    data = f"{HEADER}\n{ROW}\n".encode("latin-1", errors="replace")
    (problem,) = problems_of(data)
    offset = data.index(b"\xe1")
    assert problem.row is None
    assert f"byte 0xE1 at offset {offset}" in problem.message
    assert "line 2" in problem.message
    assert "UTF-8" in problem.message


def test_offset_counts_the_byte_order_mark() -> None:
    (problem,) = problems_of(b"\xef\xbb\xbfname,\xff\n")
    assert "byte 0xFF at offset 8" in problem.message


def test_utf16_is_refused_by_name() -> None:
    (problem,) = problems_of(f"{HEADER}\n".encode("utf-16"))
    assert "UTF-16" in problem.message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    (problem,) = problems_of(b"\xff" * (MAX_BYTES + 1))  # not even decoded
    assert "bytes" in problem.message
    assert problem.row is None


def test_more_rows_than_the_limit_are_refused() -> None:
    with pytest.raises(UnreadableFile) as refused:
        read_table(f"{HEADER}\n{ROW}\n{ROW}\n{ROW}\n".encode(), PEOPLE, max_rows=2)
    (problem,) = refused.value.problems
    assert problem.row == 4
    assert "more than 2 rows" in problem.message


def test_unknown_missing_and_repeated_columns_are_each_named() -> None:
    problems = problems_of(b"name,e-mail,organisation,region,name,phone\n")
    by_column = {p.column: p.message for p in problems}
    assert set(by_column) == {"e-mail", "phone", "name", "email", "country"}
    assert by_column["e-mail"].startswith("unknown column")
    assert by_column["phone"].startswith("unknown column")
    assert by_column["email"].startswith("missing column")
    assert by_column["country"].startswith("missing column")
    assert by_column["name"] == "the column is named twice"
    assert {p.row for p in problems} == {1}


def test_an_empty_file_is_refused_at_row_1() -> None:
    (problem,) = problems_of(b"")
    assert problem.row == 1
    assert "empty" in problem.message


def test_broken_quoting_names_the_row() -> None:
    (problem,) = problems_of(f'{HEADER}\n{ROW}\n"Ana" Ortiz,a@example.org,A,B,C\n'.encode())
    assert problem.row == 3


def test_a_row_with_more_cells_than_columns_is_refused() -> None:
    (problem,) = problems_of(f"{HEADER}\nOrtiz, Ana,a@example.org,A,B,C\n".encode())
    assert problem.row == 2
    assert "6 cells" in problem.message


def test_row_checks_name_each_problem_with_row_and_column() -> None:
    table = read_table(f"{HEADER},consortium\n ,not-an-email,Agency,,Spain,CIP\n".encode(), PEOPLE)
    cells = Cells(table.records[0])
    assert person_row(cells) is None
    assert {(p.row, p.column) for p in cells.problems} == {
        (2, "name"),
        (2, "email"),
        (2, "region"),
        (2, "consortium"),
    }


def test_attendance_reads_yes_and_no_and_refuses_anything_else() -> None:
    text = "email,programme,week,attended\na@example.org,P,1,Yes\na@example.org,P,two,maybe\n"
    yes, bad = read_table(text.encode(), ImportKind.ATTENDANCE).records
    row = attendance_row(Cells(yes))
    assert row is not None
    assert (row.week, row.attended) == (1, True)
    cells = Cells(bad)
    assert attendance_row(cells) is None
    assert [(p.column, p.message) for p in cells.problems] == [
        ("week", "is not a week number (1, 2, 3, ...)"),
        ("attended", "must be yes or no"),
    ]


@pytest.mark.parametrize("kind", list(ImportKind))
def test_each_template_reads_back_as_one_valid_row(kind: ImportKind) -> None:
    data = template_bytes(kind)
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_table(data, kind)
    assert table.columns == COLUMNS[kind].all
    (record,) = table.records
    assert all(record.cells.values())
    header = next(csv.reader(io.StringIO(template(kind))))
    assert header == list(COLUMNS[kind].all)
