"""What the registrar reads over HTTP from the real server, on both backends: lists with
filters, search and cursors, the roster in words, the reports, the CSV exports and the history,
each for the roles allowed, and refused (403) for the others."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.runtime import open_runtime
from tests.builders import REGISTRAR
from tests.e2e.conftest import Server, start_server, stop_server
from tests.integration.test_lists_and_reports import Programme, build, register


@pytest.fixture
def loaded(settings: Settings) -> Iterator[tuple[Server, Programme]]:
    """A server over a ledger holding one programme in every roster situation, a listed
    Associate Trainer, an attendance correction, and a person with an accented name."""
    runtime = open_runtime(settings, clock=ManualClock(datetime(2017, 6, 1, 9, tzinfo=UTC)))
    try:
        cohort = build(runtime.service)
        runtime.service.correct_attendance(
            REGISTRAR, cohort.programme_id, cohort.people["boris"], 4, False, "left at noon"
        )
        runtime.service.set_public_listing(REGISTRAR, cohort.people["ana"], True)
        register(runtime.service, "Zuzana Hrušovská", "Agentúra Košice", "Košice", "Slovakia")
        runtime.catch_up()
    finally:
        runtime.close()
    server = start_server(settings)
    try:
        yield server, cohort
    finally:
        stop_server(server)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if "json" in response.headers.get("content-type", "") else response


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_staff_page_filter_and_search_people_and_the_auditor_is_refused(
    loaded: tuple[Server, Programme],
) -> None:
    server, cohort = loaded
    registrar = server.client(server.token("registrar-ana", Role.REGISTRAR))
    tutor = server.client(server.token("tutor", Role.TUTOR, cohort.tutors["tomas"]))
    auditor = server.client(server.token("auditor-ida", Role.AUDITOR))

    seen: list[str] = []
    cursor = None
    while True:
        page = ok(
            registrar.get(
                "/v1/people", params={"limit": 3, "cursor": cursor} if cursor else {"limit": 3}
            )
        )
        assert page["total"] == 8
        seen += [item["person_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8

    found = ok(registrar.get("/v1/people", params={"q": "hrusovska"}))
    assert [item["name"] for item in found["items"]] == ["Zuzana Hrušovská"]
    assert ok(tutor.get("/v1/people", params={"region": "podkarpackie"}))["total"] == 2
    refused = auditor.get("/v1/people")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Hrušovská" not in refused.text
    for limit in (0, 201):
        assert registrar.get("/v1/people", params={"limit": limit}).status_code == 422
    assert registrar.get("/v1/people", params={"cursor": "!!"}).json()["field"] == "cursor"

    returned = ok(registrar.get("/v1/projects", params={"status": "returned_for_rework"}))
    assert [p["project_id"] for p in returned["items"]] == [cohort.wicker]
    withdrawn = ok(registrar.get("/v1/enrolments", params={"active": "false"}))
    assert [e["person_id"] for e in withdrawn["items"]] == [cohort.people["emil"]]
    programmes = ok(registrar.get("/v1/programmes"))
    assert [p["programme_id"] for p in programmes["items"]] == [cohort.programme_id]
    licences = ok(
        registrar.get("/v1/certificates", params={"kind": "licence", "as_of": "2015-01-01"})
    )
    assert [(c["certificate_id"], c["status"]) for c in licences["items"]] == [
        (cohort.licence, "valid")
    ]
    for path in ("/v1/programmes", "/v1/projects", "/v1/enrolments", "/v1/certificates"):
        assert auditor.get(path).status_code == 403


def test_the_roster_says_what_is_missing_as_json_and_csv_with_names_for_staff_only(
    loaded: tuple[Server, Programme],
) -> None:
    server, cohort = loaded
    registrar = server.client(server.token("registrar-ana", Role.REGISTRAR))
    auditor = server.client(server.token("auditor-ida", Role.AUDITOR))
    path = f"/v1/programmes/{cohort.programme_id}/roster"

    roster = ok(registrar.get(path))
    by_person = {p["person_id"]: p for p in roster["participants"]}
    boris = by_person[cohort.people["boris"]]
    assert boris["name"] == "Boris Short"
    assert boris["missing"] == ["attended 3 of 6 weeks, 5 required"]
    carla = by_person[cohort.people["carla"]]
    assert carla["missing"] == ["project returned for rework on 2013-05-02, not yet signed off"]
    ana = by_person[cohort.people["ana"]]
    assert ana["rules"]["R4"]["detail"] == f"awarded {cohort.qualification} on 2013-07-20"
    past = ok(registrar.get(path, params={"as_of": "2013-03-01"}))
    assert {p["weeks_attended"] for p in past["participants"]} == {3}

    unnamed = ok(auditor.get(path))
    assert all(p["name"] is None for p in unnamed["participants"])
    assert "Boris Short" not in auditor.get(f"{path}.csv").text

    rows = {row["person_id"]: row for row in rows_of(registrar.get(f"{path}.csv"))}
    assert rows[cohort.people["emil"]]["name"] == "'=Emil Withdrawn"
    assert rows[cohort.people["dara"]]["missing"] == "in no field project"

    public = rows_of(httpx.get(f"{server.base}/register.csv"))
    assert [(r["certificate_id"], r["holder"]) for r in public] == [
        (cohort.qualification, "Ana Awarded")
    ]
    certificates = rows_of(registrar.get("/v1/certificates.csv", params={"as_of": "2015-01-01"}))
    assert {r["certificate_id"]: r["holder_name"] for r in certificates} == {
        cohort.qualification: "Ana Awarded",
        cohort.licence: "Ana Awarded",
    }
    assert auditor.get("/v1/certificates.csv").status_code == 403


def test_reports_answer_in_json_and_csv_and_match_the_certificates(
    loaded: tuple[Server, Programme],
) -> None:
    server, _ = loaded
    committee = server.client(server.token("committee", Role.COMMITTEE, str(uuid.uuid4())))
    on = {"as_of": "2015-01-01"}
    counts = ok(committee.get("/v1/reports/counts", params={"by": "region", **on}))
    listed = ok(committee.get("/v1/certificates", params={"status": "valid", **on}))
    assert counts["totals"]["total"] == listed["total"] == 2
    assert [(g["value"], g["total"]) for g in counts["groups"]] == [("Cantabria", 2)]
    by_suffix = rows_of(committee.get("/v1/reports/counts.csv", params={"by": "region", **on}))
    by_accept = rows_of(
        committee.get(
            "/v1/reports/counts",
            params={"by": "region", **on},
            headers={"Accept": "text/csv"},
        )
    )
    assert (
        by_suffix
        == by_accept
        == [
            {
                "region": "Cantabria",
                "associate_trainer": "1",
                "licence": "1",
                "instructor": "0",
                "total": "2",
            }
        ]
    )
    summary = ok(committee.get("/v1/reports/summary", params=on))
    assert summary["sentence"] == (
        "1 Associate Trainer from 1 region and 1 Licensed Trainer from 1 region"
    )
    timeline = ok(
        committee.get(
            "/v1/reports/timeline",
            params={"from": "2013-01-01", "to": "2015-12-31", "every": "year"},
        )
    )
    assert [p["period"] for p in timeline["periods"]] == ["2013", "2014", "2015"]
    assert (timeline["from"], timeline["to"]) == ("2013-01-01", "2015-12-31")
    years = rows_of(
        committee.get(
            "/v1/reports/timeline.csv",
            params={"from": "2013-01-01", "to": "2015-12-31", "every": "year"},
        )
    )
    assert years[-1]["valid licence"] == "1"


def test_the_history_shows_corrections_with_their_reason_to_staff_only(
    loaded: tuple[Server, Programme],
) -> None:
    server, cohort = loaded
    registrar = server.client(server.token("registrar-ana", Role.REGISTRAR))
    auditor = server.client(server.token("auditor-ida", Role.AUDITOR))
    path = f"/v1/trainers/{cohort.people['boris']}/history"
    told = ok(registrar.get(path))
    corrected = [e for e in told["events"] if e["type"] == "enrolment.attendance_corrected"]
    assert [(e["reason"], e["details"]["week"]) for e in corrected] == [("left at noon", 4)]
    assert {"person", "enrolment", "project"} <= {e["subject"] for e in told["events"]}
    audited = ok(auditor.get(path))
    assert [e["type"] for e in audited["events"]] == [e["type"] for e in told["events"]]
    assert all(e["reason"] is None for e in audited["events"])
    assert "left at noon" not in auditor.get(path).text
