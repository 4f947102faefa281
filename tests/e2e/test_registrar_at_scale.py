"""A registrar's programme at real size, over HTTP against the real server, on both backends:
30 people imported from a spreadsheet, six weeks of attendance in six requests, a search, a
correction, a retraction, a roster that says who is missing what, the awards, and the reports.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.e2e.conftest import Server
from tests.e2e.registrar_support import (
    WEEKS,
    Foundation,
    Person,
    get,
    log_size,
    ok,
    post,
    refused,
)

TITLE = "Train the trainers 2012-2013"
REGIONS = [
    ("Cantabria", "Spain"),
    ("Asturias", "Spain"),
    ("Galicia", "Spain"),
    ("Podkarpackie", "Poland"),
    ("Northeast", "Iceland"),
    ("Kerry", "Ireland"),
    ("Izmir", "Turkey"),
    ("Bratislava", "Slovakia"),
    ("Central Macedonia", "Greece"),
    ("Vojvodina", "Serbia"),
]
FIRST = [
    "Zuzana", "Bruno", "Clara", "Dario", "Elena", "Filip", "Greta", "Hugo", "Ines", "Jonas",
    "Katja", "Luka", "Marta", "Nils", "Olga", "Pavel", "Rosa", "Stefan", "Tereza", "Urs",
    "Vera", "Wim", "Xenia", "Yann", "Zofia", "Aitor", "Bjorn", "Cem", "Dora", "Emil",
]  # fmt: skip
LAST = [
    "Hrušovská", "Alvarez", "Berg", "Costa", "Dimitrova", "Eriksen", "Fabbri", "Garcia",
    "Horvat", "Ivanova", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Olsen",
    "Petrovic", "Quintana", "Rossi", "Schmid", "Tamm", "Ulloa", "Varga", "Weber", "Yilmaz",
    "Zamora", "Arnason", "Demir", "Egan", "Fischer",
]  # fmt: skip
COLUMNS = ["name", "email", "organisation", "region", "country", "programme"]
ABSENT = {3: {2, 4}, 7: {3}, 9: {1, 2}}  # participant index: weeks they missed (as first recorded)
RETURNED_ON = "2013-06-20"


def participants() -> list[dict[str, str]]:
    """Thirty fictitious participants from ten regions, as the spreadsheet lists them."""
    rows = []
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        region, country = REGIONS[i % len(REGIONS)]
        ascii_last = last.replace("š", "s").replace("á", "a").lower()
        rows.append(
            {
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{ascii_last}@agency{i % 10}.example.org",
                "organisation": f"{region} Development Agency",
                "region": region,
                "country": country,
                "programme": TITLE,
            }
        )
    return rows


def as_csv(rows: list[dict[str, str]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def import_people(client: httpx.Client, body: bytes, *, dry_run: bool) -> httpx.Response:
    return client.post(
        "/v1/imports/people",
        params={"dry_run": str(dry_run).lower()},
        content=body,
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )


def problems_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    found: list[dict[str, Any]] = body.get("problems", body.get("errors"))
    assert found is not None, body
    return found


def by_email(people: list[dict[str, Any]]) -> dict[str, str]:
    return {p["email"]: p["person_id"] for p in people}


def test_a_programme_of_thirty_from_import_to_awards_and_reports(server: Server) -> None:
    staff = Foundation.on(server)
    programme = staff.open_programme(TITLE)
    tutors = [
        staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org"),
        staff.tutor("Ulla Tutor", "ulla.tutor@faculty.example.org"),
        staff.tutor("Vito Tutor", "vito.tutor@faculty.example.org"),
    ]

    # -- the spreadsheet: three bad rows, every one named; nothing written --------------------
    rows = participants()
    bad = [dict(row) for row in rows]
    bad[3]["email"] = "dario.costa-at-agency3.example.org"  # spreadsheet row 5
    bad[11]["programme"] = "Train the trainers 2031"  # row 13
    bad[20] = {**bad[20], "email": tutors[0].email}  # row 22: the tutor, under another name
    before = log_size(server)
    dry = import_people(staff.registrar, as_csv(bad), dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["valid"] is False
    named = {(p["row"], p["column"]) for p in problems_of(dry)}
    assert named == {(5, "email"), (13, "programme"), (22, "email")}, problems_of(dry)
    committed = import_people(staff.registrar, as_csv(bad), dry_run=False)
    assert committed.status_code == 422, committed.text
    assert {(p["row"], p["column"]) for p in problems_of(committed)} == named
    assert log_size(server) == before  # neither the dry run nor the refused commit wrote

    # -- fixed, saved as a spreadsheet saves it (BOM, semicolons); one batch; once only -------
    fixed = as_csv(rows, delimiter=";", bom=True)
    checked = import_people(staff.registrar, fixed, dry_run=True)
    assert checked.status_code == 200, checked.text
    assert problems_of(checked) == []
    assert log_size(server) == before
    assert checked.json()["appended"] == len(rows)
    written = ok(import_people(staff.registrar, fixed, dry_run=False), 201)
    imported = log_size(server)
    assert imported == before + 2 * len(rows)  # 30 registrations and 30 enrolments
    assert written["positions"] == list(range(before, imported))  # one batch, in log positions
    again = ok(import_people(staff.registrar, fixed, dry_run=False), 201)
    assert (again["appended"], again["skipped"], again["positions"]) == (0, len(rows), [])
    assert log_size(server) == imported  # the same file twice appends nothing

    listed = get(staff.registrar, "/v1/people", programme=programme, limit=100)
    assert listed["total"] == len(rows)
    ids = by_email(listed["items"])
    people = [
        Person(ids[r["email"]], r["name"], r["email"], r["organisation"], r["region"], r["country"])
        for r in rows
    ]
    enrolled = get(staff.registrar, "/v1/enrolments", programme=programme, limit=100)
    assert enrolled["total"] == len(rows)

    # -- six weeks of attendance for thirty people in six requests ----------------------------
    for week in range(1, WEEKS + 1):
        entries = {p.person_id: week not in ABSENT.get(i, set()) for i, p in enumerate(people)}
        receipt = staff.attendance(programme, week, entries)
        assert len(receipt["positions"]) == len(people)  # each entry its own signed event
    sent_again = staff.attendance(
        programme, 1, {p.person_id: 1 not in ABSENT.get(i, set()) for i, p in enumerate(people)}
    )
    assert sent_again["positions"] == []  # idempotent: nothing appended

    # -- find "hrusovska" --------------------------------------------------------------------
    found = get(staff.registrar, "/v1/people", q="hrusovska")
    assert [(p["person_id"], p["name"]) for p in found["items"]] == [
        (people[0].person_id, "Zuzana Hrušovská")
    ]

    # -- teams: five signed off, one returned for rework; twelve people in no team ------------
    for team in range(6):
        members = [p.person_id for p in people[3 * team : 3 * team + 3]]
        tutor = tutors[team % 3].person_id
        project = staff.project(programme, f"Cluster initiative {team + 1}", tutor, members)
        if team < 5:
            staff.sign_off(project, tutor)
        else:
            post(
                staff.tutors[tutor],
                f"/v1/projects/{project}/return",
                {"reason": "the cluster map is missing", "on": RETURNED_ON},
            )

    # -- one attendance entry corrected: participant 9 did attend week 2 ----------------------
    late = people[9].person_id
    assert not staff.roster_row(programme, late)["eligible"]
    conflicting = staff.registrar.post(
        f"/v1/programmes/{programme}/enrolments/{late}/attendance",
        json={"week": 2, "attended": True},
    )
    assert "correction" in refused(conflicting, 409)["detail"]
    post(
        staff.registrar,
        f"/v1/programmes/{programme}/enrolments/{late}/attendance/2/correction",
        {"attended": True, "reason": "signed the register; entered as absent by mistake"},
    )
    assert staff.roster_row(programme, late)["eligible"]

    # -- the roster says in words who is missing what -----------------------------------------
    short = staff.roster_row(programme, people[3].person_id)
    assert short["name"] == people[3].name
    assert short["missing"] == ["attended 4 of 6 weeks, 5 required"]
    returned = staff.roster_row(programme, people[15].person_id)
    assert returned["missing"] == [
        f"project returned for rework on {RETURNED_ON}, not yet signed off"
    ]
    alone = staff.roster_row(programme, people[25].person_id)
    assert len(alone["missing"]) == 1
    assert "project" in alone["missing"][0]
    assert staff.roster_row(programme, people[7].person_id)["missing"] == []

    # -- the committee awards the eligible ---------------------------------------------------
    roster = get(staff.registrar, f"/v1/programmes/{programme}/roster")
    eligible = [r["person_id"] for r in roster["participants"] if r["eligible"]]
    expected = {p.person_id for i, p in enumerate(people[:15]) if i != 3}
    assert set(eligible) == expected
    awarded = {person: staff.award(programme, person) for person in eligible}
    for person, certificate in awarded.items():
        row = staff.roster_row(programme, person)
        assert row["missing"] == []
        assert certificate in str(row)

    # -- a course recorded by mistake, retracted ---------------------------------------------
    holder = people[0].person_id
    delivery = post(
        staff.registrar,
        f"/v1/people/{holder}/courses",
        {"delivered_on": "2014-03-02", "region": "Bratislava", "participants": 11},
    )["id"]
    assert get(staff.registrar, f"/v1/trainers/{holder}/status")["courses_delivered"] == 1
    post(
        staff.registrar,
        f"/v1/people/{holder}/courses/{delivery}/retraction",
        {"reason": "recorded for the wrong trainer"},
    )
    assert get(staff.registrar, f"/v1/trainers/{holder}/status")["courses_delivered"] == 0
    assert "person.course_retracted" in staff.history_types(holder)

    # -- the reports count what was done -----------------------------------------------------
    regions = {p.region for p in people if p.person_id in awarded}
    summary = get(staff.registrar, "/v1/reports/summary")
    assert f"{len(awarded)} Associate Trainers from {len(regions)} regions" in str(summary)
    certificates = get(
        staff.registrar, "/v1/certificates", kind="associate_trainer", programme=programme
    )
    assert certificates["total"] == len(awarded)
    assert {c["certificate_id"] for c in certificates["items"]} == set(awarded.values())
    by_region = {
        region: sum(1 for p in people if p.person_id in awarded and p.region == region)
        for region in regions
    }
    assert associate_trainers(get(staff.registrar, "/v1/reports/counts", by="region")) == by_region
    assert associate_trainers(get(staff.registrar, "/v1/reports/counts", by="programme")) == {
        programme: len(awarded)
    }
    as_csv_text = staff.registrar.get("/v1/reports/counts.csv", params={"by": "region"})
    assert as_csv_text.status_code == 200, as_csv_text.text
    table = list(csv.DictReader(io.StringIO(as_csv_text.text.lstrip("\ufeff"))))
    assert {r["region"]: int(r["associate_trainer"]) for r in table} == by_region


def associate_trainers(report: dict[str, Any]) -> dict[str, int]:
    """Associate Trainers per group, from a counts report (groups with none left out)."""
    return {g["value"]: g["associate_trainer"] for g in report["groups"] if g["associate_trainer"]}
