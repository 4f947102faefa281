"""The read side at work: paged lists with filters and cursors, the roster that says what is
missing, the reports, CSV exports and the history, on both backends."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime
from ledger.service import LedgerService
from ledger.views import lists, reports
from ledger.views.csv_export import to_csv
from ledger.views.history import history
from ledger.views.queries import QueryError
from ledger.views.roster import ROSTER_CSV_HEADER, describe_roster, roster_csv_rows
from tests.builders import COMMITTEE, REGISTRAR, open_programme

LATER = date(2015, 1, 1)


@dataclass
class Programme:
    """One programme with a participant in each situation the roster must put in words."""

    programme_id: str
    gourmet: str
    wicker: str
    tutors: dict[str, str]
    people: dict[str, str]
    qualification: str
    licence: str


def register(
    service: LedgerService, name: str, organisation: str, region: str, country: str
) -> str:
    email = name.lower().replace(" ", ".").replace("=", "") + "@example.org"
    return service.register_person(REGISTRAR, name, email, organisation, region, country).id


def build(service: LedgerService) -> Programme:
    programme = open_programme(service)
    tutors = {
        "tomas": register(service, "Tomas Tutor", "Cluster Academy", "Cantabria", "Spain"),
        "teresa": register(service, "Teresa Tutor", "Tutor Institute", "Podkarpackie", "Poland"),
    }
    people = {
        "ana": register(service, "Ana Awarded", "Agency A", "Cantabria", "Spain"),
        "boris": register(service, "Boris Short", "Agency B", "Asturias", "Spain"),
        "carla": register(service, "Carla Returned", "Agency C", "Podkarpackie", "Poland"),
        "dara": register(service, "Dara Loner", "Agency D", "Cantabria", "Spain"),
        "emil": register(service, "=Emil Withdrawn", "Agency E", "Galicia", "Spain"),
    }
    gourmet = service.register_project(
        REGISTRAR, programme, "Gourmet Food Cantabria", "Gourmet food", "Cantabria", "Spain"
    ).id
    wicker = service.register_project(
        REGISTRAR, programme, "Wicker Rzeszow", "Wicker", "Podkarpackie", "Poland"
    ).id
    service.assign_tutor(REGISTRAR, gourmet, tutors["tomas"])
    service.assign_tutor(REGISTRAR, wicker, tutors["teresa"])
    weeks = {"ana": 6, "boris": 4, "carla": 6, "dara": 6, "emil": 6}
    for key, person in people.items():
        service.enrol(REGISTRAR, programme, person, consortium="CIP Call 2011-2012")
        for week in range(1, weeks[key] + 1):
            service.record_attendance(REGISTRAR, programme, person, week)
    for key in ("ana", "boris", "emil"):
        service.assign_member(REGISTRAR, gourmet, people[key])
    service.assign_member(REGISTRAR, wicker, people["carla"])
    tomas, teresa = Actor(tutors["tomas"], Role.TUTOR), Actor(tutors["teresa"], Role.TUTOR)
    service.return_project(teresa, wicker, "needs a market analysis", on=date(2013, 5, 2))
    service.sign_off(tomas, gourmet, "Good work", on=date(2013, 7, 10))
    qualification = service.award_qualification(
        COMMITTEE, programme, people["ana"], on=date(2013, 7, 20)
    ).id
    service.withdraw(REGISTRAR, programme, people["emil"], "moved abroad", on=date(2013, 7, 25))
    service.publish_material(REGISTRAR, "ECEI-2014", "ECEI material, 2014", on=date(2014, 1, 10))
    service.record_course(REGISTRAR, people["ana"], date(2014, 2, 1), "Cantabria", 14)
    licence = service.grant_licence(
        COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014", on=date(2014, 3, 3)
    ).id
    return Programme(programme, gourmet, wicker, tutors, people, qualification, licence)


@pytest.fixture
def cohort(runtime: Runtime) -> Programme:
    built = build(runtime.service)
    runtime.catch_up()
    return built


def pages(first: lists.Page, more: Callable[[str], lists.Page]) -> list[lists.Page]:
    """Every page of a list, following the cursors (`more(cursor)` fetches the next)."""
    found = [first]
    while (cursor := found[-1].next_cursor) is not None:
        found.append(more(cursor))
    return found


def people_page(
    runtime: Runtime,
    limit: int,
    cursor: str | None = None,
    q: str | None = None,
    region: str | None = None,
    country: str | None = None,
    programme: str | None = None,
) -> lists.Page:
    return lists.people(
        runtime.queries,
        runtime.service.persons,
        limit=limit,
        cursor=cursor,
        q=q,
        region=region,
        country=country,
        programme=programme,
        directory=runtime.people,
    )


# -- lists -------------------------------------------------------------------------------------


def test_people_pages_list_everyone_once_and_each_page_states_the_total(
    runtime: Runtime, cohort: Programme
) -> None:
    everyone = sorted([*cohort.tutors.values(), *cohort.people.values()])
    found = pages(
        people_page(runtime, limit=3),
        lambda cursor: people_page(runtime, limit=3, cursor=cursor),
    )
    assert [len(p.items) for p in found] == [3, 3, 1]
    assert {p.total for p in found} == {7}
    assert [item["person_id"] for p in found for item in p.items] == everyone
    first = found[0].items[0]
    assert first["name"]
    assert first["email"].endswith("@example.org")


def test_people_are_filtered_by_region_country_and_programme_without_case_or_accents(
    runtime: Runtime, cohort: Programme
) -> None:
    def ids(page: lists.Page) -> set[str]:
        return {item["person_id"] for item in page.items}

    p = cohort.people
    assert ids(people_page(runtime, limit=50, region="CANTABRIA")) == {
        p["ana"],
        p["dara"],
        cohort.tutors["tomas"],
    }
    assert ids(people_page(runtime, limit=50, country="poland")) == {
        p["carla"],
        cohort.tutors["teresa"],
    }
    enrolled = people_page(runtime, limit=50, programme=cohort.programme_id, country="Spain")
    assert ids(enrolled) == {p["ana"], p["boris"], p["dara"], p["emil"]}
    assert enrolled.total == 4


def test_people_are_found_by_words_of_their_name_without_accents(runtime: Runtime) -> None:
    wanted = register(runtime.service, "Zuzana Hrušovská", "Agentúra Košice", "Košice", "Slovakia")
    register(runtime.service, "Zora Hruba", "Another Agency", "Košice", "Slovakia")
    runtime.catch_up()
    found = people_page(runtime, limit=10, q="hrusovska")
    assert [item["person_id"] for item in found.items] == [wanted]
    assert found.items[0]["name"] == "Zuzana Hrušovská"


def test_a_cursor_that_no_list_gave_is_refused_naming_the_field(
    runtime: Runtime, cohort: Programme
) -> None:
    with pytest.raises(QueryError) as refused:
        lists.programmes(runtime.queries, limit=5, cursor="%%%not-base64")
    assert refused.value.field == "cursor"


def test_projects_and_enrolments_are_filtered_by_programme_status_person_and_activity(
    runtime: Runtime, cohort: Programme
) -> None:
    queries = runtime.queries
    returned = lists.projects(queries, limit=10, status="returned_for_rework")
    assert [item["project_id"] for item in returned.items] == [cohort.wicker]
    assert returned.items[0]["returned_on"] == "2013-05-02"
    assert lists.projects(queries, limit=10, programme=cohort.programme_id).total == 2
    withdrawn = lists.enrolments(queries, limit=10, programme=cohort.programme_id, active=False)
    assert [item["person_id"] for item in withdrawn.items] == [cohort.people["emil"]]
    boris = lists.enrolments(queries, limit=10, person=cohort.people["boris"])
    assert [item["weeks_attended"] for item in boris.items] == [4]
    (programme,) = lists.programmes(queries, limit=10).items
    assert (programme["enrolments"], programme["active_enrolments"]) == (5, 4)
    assert (programme["projects"], programme["weeks_scheduled"]) == (2, 6)


def test_certificates_are_listed_with_their_status_on_the_date_asked(
    runtime: Runtime, cohort: Programme
) -> None:
    queries = runtime.queries

    def ids(on: date, **wanted: str) -> list[str]:
        page = lists.certificates(queries, on, lists.CertificateFilter(**wanted), limit=10)
        return [item["certificate_id"] for item in page.items]

    assert ids(LATER, kind="licence", status="valid") == [cohort.licence]
    assert ids(date(2017, 1, 1), status="expired") == [cohort.licence]
    assert ids(date(2017, 1, 1), status="valid") == [cohort.qualification]
    assert sorted(ids(LATER, holder=cohort.people["ana"])) == sorted(
        [cohort.qualification, cohort.licence]
    )
    assert ids(LATER, programme=cohort.programme_id, kind="associate_trainer") == [
        cohort.qualification
    ]


# -- roster ------------------------------------------------------------------------------------


def standing(
    runtime: Runtime, cohort: Programme, on: date | None = None
) -> dict[str, dict[str, Any]]:
    roster = describe_roster(runtime.queries, cohort.programme_id, on)
    assert roster is not None
    by_person = {entry["person_id"]: entry for entry in roster["participants"]}
    return {key: by_person[person] for key, person in cohort.people.items()}


def test_the_roster_says_in_words_what_each_participant_is_missing(
    runtime: Runtime, cohort: Programme
) -> None:
    now = standing(runtime, cohort)
    assert now["boris"]["missing"] == ["attended 4 of 6 weeks, 5 required"]
    assert now["carla"]["missing"] == [
        "project returned for rework on 2013-05-02, not yet signed off"
    ]
    assert now["dara"]["missing"] == ["in no field project"]
    assert now["emil"]["missing"] == ["enrolment withdrawn"]
    assert now["ana"]["missing"] == []
    assert now["ana"]["eligible"] is True
    assert now["ana"]["rules"]["R4"] == {
        "met": True,
        "detail": f"awarded {cohort.qualification} on 2013-07-20",
    }
    assert now["ana"]["awarded"] == {"certificate_id": cohort.qualification, "on": "2013-07-20"}
    assert now["boris"]["rules"]["R4"] == {"met": False, "detail": "waits for R2"}
    assert [now[k]["eligible"] for k in ("boris", "carla", "dara", "emil")] == [False] * 4
    assert now["carla"]["project"]["cluster_initiative"] == "Wicker Rzeszow"


def test_the_roster_on_a_past_date_counts_only_what_was_effective_then(
    runtime: Runtime, cohort: Programme
) -> None:
    spring = standing(runtime, cohort, date(2013, 3, 1))
    assert spring["ana"]["weeks_attended"] == 3  # weeks 1 to 3 had started by then
    assert spring["ana"]["awarded"] is None
    assert spring["ana"]["rules"]["R3"]["detail"] == "project not yet signed off"
    assert spring["carla"]["rules"]["R3"]["detail"] == "project not yet signed off"
    assert spring["emil"]["active"] is True
    june = standing(runtime, cohort, date(2013, 6, 1))
    assert june["carla"]["missing"] == [
        "project returned for rework on 2013-05-02, not yet signed off"
    ]
    assert june["ana"]["rules"]["R4"] == {"met": False, "detail": "waits for R3"}


def test_the_roster_exports_as_csv_with_formulas_neutralised(
    runtime: Runtime, cohort: Programme
) -> None:
    roster = describe_roster(
        runtime.queries, cohort.programme_id, name_of=lambda p: runtime.service.person(p).name
    )
    assert roster is not None
    text = to_csv(ROSTER_CSV_HEADER, roster_csv_rows(roster))
    rows = list(csv.DictReader(io.StringIO(text)))
    by_person = {row["person_id"]: row for row in rows}
    assert len(rows) == 5
    emil = by_person[cohort.people["emil"]]
    assert emil["name"] == "'=Emil Withdrawn"
    assert (emil["active"], emil["R4"], emil["missing"]) == (
        "false",
        "false",
        "enrolment withdrawn",
    )
    ana = by_person[cohort.people["ana"]]
    assert (ana["awarded_certificate"], ana["eligible"]) == (cohort.qualification, "true")


# -- lookups -----------------------------------------------------------------------------------


def test_lookups_name_the_tutors_and_the_certificates_held(
    runtime: Runtime, cohort: Programme
) -> None:
    queries = runtime.queries
    assert set(queries.tutors_of(cohort.programme_id)) == set(cohort.tutors.values())
    assert set(queries.certificates_of(cohort.people["ana"])) == {
        cohort.qualification,
        cohort.licence,
    }
    assert list(queries.certificates_of(cohort.people["boris"])) == []
    assert list(queries.programmes_of(cohort.people["emil"])) == [cohort.programme_id]


# -- merged duplicates and corrections -------------------------------------------------------


def test_a_person_marked_as_duplicate_reads_as_the_kept_person(
    runtime: Runtime, cohort: Programme
) -> None:
    service = runtime.service
    ana = cohort.people["ana"]
    twin = service.register_person(
        REGISTRAR, "Ana Awarded", "ana.private@example.net", "Home", "Cantabria", "Spain"
    ).id
    service.record_course(REGISTRAR, twin, date(2014, 6, 1), "Cantabria", 12)
    service.mark_duplicate(REGISTRAR, twin, ana, "registered twice at a fair")
    runtime.catch_up()
    everyone = people_page(runtime, limit=50)
    assert twin not in {item["person_id"] for item in everyone.items}
    assert next(i for i in everyone.items if i["person_id"] == ana)["merged"] == [twin]
    found = people_page(runtime, limit=10, q="ana.private@example.net")
    assert [item["person_id"] for item in found.items] == [ana]
    status = runtime.queries.trainer_status(ana, runtime.clock.now().date())
    assert status is not None
    assert status["courses_delivered"] == 2
    # Asked for a date before the merge was recorded, the twin's course is still their own.
    before = runtime.queries.trainer_status(ana, LATER)
    assert before is not None
    assert before["courses_delivered"] == 1
    told = history(runtime.queries, ana, staff=True)
    assert told["merged"] == [twin]
    marked = next(e for e in told["events"] if e["type"] == "person.marked_duplicate")
    assert (marked["person_id"], marked["reason"]) == (twin, "registered twice at a fair")


def test_history_shows_enrolment_project_and_corrections_with_reasons_for_staff_only(
    runtime: Runtime, cohort: Programme
) -> None:
    service = runtime.service
    boris = cohort.people["boris"]
    service.correct_attendance(
        REGISTRAR, cohort.programme_id, boris, 4, False, "signed in for a colleague"
    )
    delivery = service.record_course(REGISTRAR, boris, date(2014, 2, 1), "Asturias", 9).id
    service.retract_course(REGISTRAR, boris, delivery, "recorded for the wrong trainer")
    runtime.catch_up()
    told = history(runtime.queries, boris, staff=True)
    kinds = {(e["subject"], e["type"]) for e in told["events"]}
    assert {
        ("person", "person.registered"),
        ("enrolment", "enrolment.attendance_recorded"),
        ("enrolment", "enrolment.attendance_corrected"),
        ("project", "project.signed_off"),
        ("person", "person.course_retracted"),
    } <= kinds
    reasons = {e["type"]: e["reason"] for e in told["events"] if e["reason"]}
    assert reasons["enrolment.attendance_corrected"] == "signed in for a colleague"
    assert reasons["person.course_retracted"] == "recorded for the wrong trainer"
    corrected = next(e for e in told["events"] if e["type"] == "enrolment.attendance_corrected")
    assert (corrected["details"]["week"], corrected["details"]["attended"]) == (4, False)
    positions = [e["position"] for e in told["events"]]
    assert positions == sorted(positions)
    assert all("reason" not in e for e in history(runtime.queries, boris, staff=False)["events"])
    assert standing(runtime, cohort)["boris"]["weeks_attended"] == 3
    status = runtime.queries.trainer_status(boris, runtime.clock.now().date())
    assert status is not None
    assert status["courses_delivered"] == 0
    # A retraction takes effect on the day it is recorded: asked for an earlier date, the
    # course still reads as recorded.
    before = runtime.queries.trainer_status(boris, LATER)
    assert before is not None
    assert before["courses_delivered"] == 1


# -- reports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["kind", "region", "country", "programme", "status"])
def test_report_counts_add_up_to_the_certificates_listed(
    runtime: Runtime, cohort: Programme, by: str
) -> None:
    report = reports.counts(runtime.queries, by, LATER)
    listed = lists.certificates(
        runtime.queries, LATER, lists.CertificateFilter(status="valid"), limit=200
    )
    if by != "status":
        assert report["totals"]["total"] == listed.total == 2
    for kind in reports.KINDS:
        assert report["totals"][kind] == sum(1 for i in listed.items if i["kind"] == kind)


def test_report_counts_by_region_name_each_region_and_kind(
    runtime: Runtime, cohort: Programme
) -> None:
    report = reports.counts(runtime.queries, "region", LATER)
    assert report["groups"] == [
        {"value": "Cantabria", "associate_trainer": 1, "licence": 1, "instructor": 0, "total": 2}
    ]
    expired = reports.counts(runtime.queries, "kind", date(2017, 1, 1), status="expired")
    assert expired["totals"]["licence"] == 1
    header, rows = reports.counts_csv(report)
    parsed = list(csv.reader(io.StringIO(to_csv(header, rows))))
    assert parsed == [
        ["region", "associate_trainer", "licence", "instructor", "total"],
        ["Cantabria", "1", "1", "0", "2"],
    ]


def test_the_summary_says_how_many_hold_each_kind_and_from_how_many_regions(
    runtime: Runtime, cohort: Programme
) -> None:
    told = reports.summary(runtime.queries, LATER)
    assert (
        told["sentence"] == "1 Associate Trainer from 1 region and 1 Licensed Trainer from 1 region"
    )
    assert reports.summary(runtime.queries, date(2013, 1, 1))["sentence"] == (
        "No valid certificates on 2013-01-01"
    )


def test_the_timeline_counts_valid_and_issued_certificates_per_period(
    runtime: Runtime, cohort: Programme
) -> None:
    told = reports.timeline(runtime.queries, date(2013, 1, 1), date(2016, 12, 31), "year")
    by_year = {row["period"]: row for row in told["periods"]}
    assert list(by_year) == ["2013", "2014", "2015", "2016"]
    assert by_year["2013"]["issued"] == {"associate_trainer": 1, "licence": 0, "instructor": 0}
    assert by_year["2014"]["issued"]["licence"] == 1
    assert by_year["2015"]["valid"] == {"associate_trainer": 1, "licence": 1, "instructor": 0}
    assert by_year["2016"]["valid"]["licence"] == 0  # expired on 2016-03-03
    quarters = reports.timeline(runtime.queries, date(2013, 8, 15), date(2013, 12, 1), "quarter")
    assert [(r["period"], r["starts_on"], r["ends_on"]) for r in quarters["periods"]] == [
        ("2013-Q3", "2013-07-01", "2013-09-30"),
        ("2013-Q4", "2013-10-01", "2013-12-01"),
    ]


# -- CSV ---------------------------------------------------------------------------------------


def test_the_certificate_register_exports_as_csv_that_parses_back(
    runtime: Runtime, cohort: Programme
) -> None:
    keyed = lists.Register.read(runtime.queries).on(LATER)
    text = to_csv(
        lists.CERTIFICATE_CSV_HEADER,
        lists.certificate_csv_rows(keyed, lambda p: runtime.service.person(p).name),
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["certificate_id"]: row["status"] for row in rows} == {
        cohort.qualification: "valid",
        cohort.licence: "valid",
    }
    assert {row["holder_name"] for row in rows} == {"Ana Awarded"}


def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text() -> None:
    text = to_csv(["a", "b", "c"], [["=1+2", "+CMD", 3], ["-x", "@SUM(A1)", None]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["a", "b", "c"],
        ["'=1+2", "'+CMD", "3"],
        ["'-x", "'@SUM(A1)", ""],
    ]
