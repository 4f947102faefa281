"""CSV imports through the service batch, on SQLite and PostgreSQL: every problem named by row
and column, nothing written on a dry run or while any row has a problem, one batch on a commit,
and nothing appended when the same file is imported again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.domain.actors import Actor, Role
from ledger.domain.errors import RuleViolation
from ledger.imports.columns import ImportKind
from ledger.imports.csv_input import read_table
from ledger.imports.plan import import_csv, refused
from ledger.imports.report import ImportReport
from ledger.imports.resolve import programme_titles
from ledger.imports.rows import Cells
from ledger.runtime import Runtime
from tests.builders import REGISTRAR, open_programme

STAFF = Actor("staff-import-test", Role.REGISTRAR)
TITLE = "1st train the trainers programme"

PEOPLE = f"""name,email,organisation,region,country,programme,consortium
Jana Hrušovská,jana.hrusovska@example.org,Cluster Agentúra,Bratislava,Slovakia,{TITLE},CIP 2011
Ana Ortiz,ana.ortiz@example.org,Agencia Norte,Cantabria,Spain,{TITLE},
Piet de Vries,piet.devries@example.org,Clusterbureau Oost,Gelderland,Netherlands,,
"""


def run(runtime: Runtime, kind: str, text: str | bytes, *, commit: bool = True) -> ImportReport:
    runtime.catch_up()  # titles come from the roster projection, people from the directory
    data = text.encode() if isinstance(text, str) else text
    return import_csv(
        data,
        ImportKind(kind),
        service=runtime.service,
        people=runtime.people,
        programmes=programme_titles(runtime.queries),
        actor=STAFF,
        commit=commit,
    )


def records(runtime: Runtime) -> int:
    """How many records the log holds."""
    runtime.catch_up()
    return runtime.public_log.size()


def problems(report: ImportReport) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.column) for p in report.problems]


@pytest.fixture
def programme(runtime: Runtime) -> str:
    return open_programme(runtime.service)


def person_with(runtime: Runtime, email: str) -> list[str]:
    return runtime.people.duplicates("", email, "")


def test_people_and_their_enrolments_are_written_in_one_batch(
    runtime: Runtime, programme: str
) -> None:
    before = records(runtime)
    report = run(runtime, "people", PEOPLE)
    assert (report.rows, report.appended, report.skipped, report.problems) == (3, 3, 0, ())
    assert report.committed
    assert len(report.positions) == 5  # three registrations and two enrolments
    assert records(runtime) == before + 5
    jana = person_with(runtime, "JANA.hrusovska@example.org")
    assert len(jana) == 1
    enrolment = runtime.service.enrolment(programme, jana[0])
    assert enrolment.consortium == "CIP 2011"
    assert runtime.service.person(jana[0]).name == "Jana Hrušovská"
    assert person_with(runtime, "piet.devries@example.org")


def test_importing_the_same_file_again_appends_nothing(runtime: Runtime, programme: str) -> None:
    run(runtime, "people", PEOPLE)
    before = records(runtime)
    again = run(runtime, "people", PEOPLE)
    assert (again.appended, again.skipped, again.problems) == (0, 3, ())
    assert records(runtime) == before
    # The same person, told apart only by case, accents and spacing, is still the same person.
    respelled = PEOPLE.replace("Jana Hrušovská", " JANA  Hrusovska ").replace(
        "ana.ortiz@", "Ana.Ortiz@"
    )
    assert run(runtime, "people", respelled).appended == 0
    assert records(runtime) == before


def test_a_person_already_registered_is_enrolled_by_a_later_import(
    runtime: Runtime, programme: str
) -> None:
    run(runtime, "people", PEOPLE)
    other = open_programme(runtime.service)
    report = run(
        runtime,
        "people",
        "name,email,organisation,region,country,programme\n"
        f"Piet de Vries,piet.devries@example.org,Clusterbureau Oost,Gelderland,Netherlands,{other}\n",
    )
    assert (report.appended, report.skipped) == (1, 0)
    (piet,) = person_with(runtime, "piet.devries@example.org")
    assert runtime.service.enrolment(other, piet).active


def test_a_dry_run_counts_what_would_be_written_and_writes_nothing(
    runtime: Runtime, programme: str
) -> None:
    before = records(runtime)
    report = run(runtime, "people", PEOPLE, commit=False)
    assert (report.appended, report.skipped, report.valid, report.committed) == (3, 0, True, False)
    assert report.positions == ()
    assert records(runtime) == before
    assert person_with(runtime, "ana.ortiz@example.org") == []


def test_every_problem_in_people_rows_is_named_and_nothing_is_written(
    runtime: Runtime, programme: str
) -> None:
    run(runtime, "people", PEOPLE)
    before = records(runtime)
    text = (
        "name,email,organisation,region,country,programme\n"
        "Eva Novak,eva.novak@,Agency A,Region,Country,\n"  # 2: bad email
        ",luka@example.org,Agency B,Region,Country,\n"  # 3: empty name
        "Mia Berg,mia.berg@example.org,Agency C,Region,Country,No such programme\n"  # 4
        "Olaf Lund,olaf.lund@example.org,Agency D,Region,Country,\n"  # 5: fine
        "Olaf Lund,OLAF.LUND@example.org,Agency D,Region,Country,\n"  # 6: same email as row 5
        "Ana Ortega,ana.ortiz@example.org,Agencia Norte,Cantabria,Spain,\n"  # 7: another name
        "Ana Ortiz,a.ortiz@example.org,Agencia Norte,Cantabria,Spain,\n"  # 8: same name and org
        "Sara Holm,sara.holm@example.org,Agency E,Region,Country,\n"  # 9: fine
    )
    for commit in (False, True):
        report = run(runtime, "people", text, commit=commit)
        assert problems(report) == [
            (2, "email"),
            (3, "name"),
            (4, "programme"),
            (6, "email"),
            (7, "email"),
            (8, "name"),
        ]
        messages = [p.message for p in report.problems]
        assert "not an email address" in messages[0]
        assert "every row needs a name" in messages[1]
        assert "no programme has this title" in messages[2]
        assert "the same email as row 5" in messages[3]
        assert messages[4].startswith("duplicate person")
        assert messages[5].startswith("duplicate person")
        assert not report.valid
        assert not report.committed
        assert records(runtime) == before
    assert person_with(runtime, "sara.holm@example.org") == []
    # Messages never repeat the personal data of the file.
    assert not any(w in m for m in messages for w in ("Ortiz", "ana.ortiz", "eva.novak", "Olaf"))


def test_two_programmes_with_the_same_title_make_the_title_ambiguous(
    runtime: Runtime, programme: str
) -> None:
    second = open_programme(runtime.service)
    report = run(runtime, "people", PEOPLE, commit=False)
    assert problems(report) == [(2, "programme"), (3, "programme")]
    assert "2 programmes have this title" in report.problems[0].message
    assert second in report.problems[0].message
    by_id = PEOPLE.replace(f",{TITLE},", f",{second},")
    assert run(runtime, "people", by_id).valid


def test_enrolments_find_people_by_email_and_skip_existing_enrolments(
    runtime: Runtime, programme: str
) -> None:
    run(runtime, "people", PEOPLE)
    before = records(runtime)
    unknown = programme[:-1] + ("1" if programme.endswith("0") else "0")
    text = (
        "Email;Programme;Consortium\r\n"
        f"jana.hrusovska@example.org;{TITLE};\r\n"  # 2: already enrolled
        f"piet.devries@example.org;{programme};CIP 2011\r\n"  # 3: new
        f"nobody@example.org;{TITLE};\r\n"  # 4: no such person
        f"PIET.devries@example.org;{TITLE};\r\n"  # 5: same as row 3
        f"ana.ortiz@example.org;{unknown};\r\n"  # 6: unknown id
    )
    report = run(runtime, "enrolments", b"\xef\xbb\xbf" + text.encode())
    assert problems(report) == [(4, "email"), (5, "email"), (6, "programme")]
    assert "no person is registered with this email" in report.problems[0].message
    assert "row 3" in report.problems[1].message
    assert records(runtime) == before
    fixed = text.replace("nobody@", "ana.ortiz@").splitlines()[:4]
    report = run(runtime, "enrolments", "\r\n".join(fixed))
    assert (report.appended, report.skipped, report.problems) == (1, 2, ())
    assert records(runtime) == before + 1
    assert run(runtime, "enrolments", "\r\n".join(fixed)).appended == 0


def test_attendance_is_recorded_once_and_every_problem_is_named(
    runtime: Runtime, programme: str
) -> None:
    run(runtime, "people", PEOPLE)
    service = runtime.service
    (ana,) = person_with(runtime, "ana.ortiz@example.org")
    service.record_attendance(REGISTRAR, programme, ana, 2, attended=True)
    later = service.open_programme(
        REGISTRAR, "Autumn programme", date(2017, 5, 1), date(2017, 12, 1), "ECEI-2012"
    ).id
    service.schedule_week(
        REGISTRAR, later, 1, date(2017, 9, 4), date(2017, 9, 8), "Vienna", ["Module 1"]
    )
    service.enrol(REGISTRAR, later, ana)
    before = records(runtime)
    text = (
        "email,programme,week,attended\n"
        f"jana.hrusovska@example.org,{TITLE},1,yes\n"  # 2: fine
        f"ana.ortiz@example.org,{TITLE},1,no\n"  # 3: fine
        f"ana.ortiz@example.org,{TITLE},2,yes\n"  # 4: already recorded: skipped
        f"ana.ortiz@example.org,{TITLE},7,yes\n"  # 5: week not scheduled
        f"ana.ortiz@example.org,Autumn programme,1,yes\n"  # 6: week not started
        f"jana.hrusovska@example.org,{TITLE},3,maybe\n"  # 7: neither yes nor no
        f"piet.devries@example.org,{TITLE},1,yes\n"  # 8: not enrolled
        f"ana.ortiz@example.org,{TITLE},1,yes\n"  # 9: same week as row 3
    )
    report = run(runtime, "attendance", text)
    assert problems(report) == [
        (5, "week"),
        (6, "week"),
        (7, "attended"),
        (8, "programme"),
        (9, "week"),
    ]
    assert "not scheduled" in report.problems[0].message
    assert "not started" in report.problems[1].message
    assert "not enrolled" in report.problems[3].message
    assert records(runtime) == before
    good = "\n".join(text.splitlines()[:4])
    report = run(runtime, "attendance", good)
    assert (report.appended, report.skipped, report.problems) == (2, 1, ())
    assert records(runtime) == before + 2
    assert service.enrolment(programme, ana).attendance[1].attended is False
    again = run(runtime, "attendance", good)
    assert (again.appended, again.skipped) == (0, 3)
    # A different answer for a week already recorded is a correction, not an import.
    changed = run(runtime, "attendance", good.replace(f"{TITLE},1,no", f"{TITLE},1,yes"))
    assert problems(changed) == [(3, "attended")]
    assert records(runtime) == before + 2


def test_a_withdrawn_enrolment_refuses_attendance_in_the_row(
    runtime: Runtime, programme: str
) -> None:
    run(runtime, "people", PEOPLE)
    (jana,) = person_with(runtime, "jana.hrusovska@example.org")
    runtime.service.withdraw(REGISTRAR, programme, jana, "Moved abroad")
    report = run(
        runtime,
        "attendance",
        f"email,programme,week,attended\njana.hrusovska@example.org,{TITLE},1,yes\n",
    )
    assert problems(report) == [(2, "attended")]
    assert "withdrawn" in report.problems[0].message


def test_a_rule_that_blocks_a_row_is_named() -> None:
    (record,) = read_table(
        b"email,programme,week,attended\na@b.org,P,1,yes\n", ImportKind.ATTENDANCE
    ).records
    cells = Cells(record)
    refused(cells, "attended", RuleViolation("R2", "attendance of an awarded qualification"))
    (problem,) = cells.problems
    assert (problem.row, problem.column, problem.rule) == (2, "attended", "R2")


def test_an_unreadable_file_is_reported_without_touching_the_ledger(
    runtime: Runtime, programme: str
) -> None:
    before = records(runtime)
    report = run(runtime, "people", "name;email\nJosé;j@example.org\n".encode("latin-1"))
    assert report.rows == 0
    (problem,) = report.problems
    assert problem.row is None
    assert "not UTF-8" in problem.message
    assert records(runtime) == before


def test_the_command_line_prints_problems_and_exits_1_then_imports_and_exits_0(
    runtime: Runtime,
    programme: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = runtime.settings
    monkeypatch.setenv("LEDGER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LEDGER_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("LEDGER_ORIGIN", settings.origin)
    if settings.database_url:
        monkeypatch.setenv("LEDGER_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    runtime.catch_up()
    bad = tmp_path / "people.csv"
    bad.write_text(PEOPLE.replace("ana.ortiz@example.org", "ana.ortiz"), encoding="utf-8")
    before = records(runtime)
    assert main(["import-csv", str(bad), "--kind", "people"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "row 3, column email: is not an email address (name@example.org)"
    assert out[-1] == "1 problem(s) in 1 row(s) of 3; nothing was written"
    good = tmp_path / "people-fixed.csv"
    good.write_text(PEOPLE, encoding="utf-8")
    assert main(["import-csv", str(good), "--kind", "people", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == (
        "3 row(s) of people: 3 would append, 0 already recorded (skipped)"
    )
    assert records(runtime) == before
    assert main(["import-csv", str(good), "--kind", "people"]) == 0
    assert "3 appended" in capsys.readouterr().out
    assert records(runtime) == before + 5
    assert main(["import-csv", str(good), "--kind", "people"]) == 0
    assert "0 appended, 3 already recorded" in capsys.readouterr().out
    assert records(runtime) == before + 5
