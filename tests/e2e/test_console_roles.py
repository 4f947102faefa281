"""One programme's story told through the console by each role with their own account, in real
Chromium against the real server process, every result then checked on `/verify` and by
`ledger audit --live`.

The registrar opens a programme and schedules its six weeks, registers the tutors and the
committee's members, imports 30 participants with their enrolments (the file's bad row shown
before anything is written, the fixed file imported in one go), records six weeks of attendance
in the grid and corrects one entry with its reason, and forms two field projects with their
tutors. Each tutor signs off their own project. A committee member who had no part in the cases
awards the eligible and reads in words why the others are not; she grants a licence and suspends
it; the suspension is appealed, the appeal is not offered to her (she took the decision: R11)
and is upheld by another member; she reinstates the licence, then revokes it.

The console offers no page to publish an edition of the training material: the registrar
publishes it through the HTTP API with a token, before the story starts. A screenshot of each
main screen is kept under tests/artifacts/console-roles/."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server
from tests.e2e.console_support import (
    chromium,
    focused_text,
    new_signed_in_page,
    row_of,
    serious_violations,
    shot,
    staff_account,
    tab_to,
)
from tests.e2e.registrar_support import (
    PROGRAMME_START,
    WEEKS,
    get,
    log_size,
    post,
    today,
    verify,
    verify_page,
    week_start,
)

TITLE = "4th train the trainers programme in Cluster Management Excellence"
MATERIAL = "ECEI-2012"
SHOTS = "console-roles"
FIRST = (
    "Aino",
    "Bastien",
    "Chiara",
    "Dmitri",
    "Esther",
    "Florin",
    "Greta",
    "Hamid",
    "Iris",
    "Jakob",
)
LAST = ("Lindqvist", "Moreau", "Novak")
BAD_ROW = 7  # as the spreadsheet numbers it: the header is row 1
AWARDED_ON = "2013-07-20"  # the committee's meeting, recorded late
SIGNED_OFF_ON = "2013-07-10"


@dataclass(frozen=True)
class Participant:
    name: str
    email: str
    organisation: str


PARTICIPANTS = [
    Participant(
        f"{first} {last}",
        f"{first.lower()}.{last.lower()}@agency.example.org",
        f"Cluster Agency {index:02d}",
    )
    for index, (first, last) in enumerate(
        ((given, surname) for surname in LAST for given in FIRST), start=1
    )
]
ABSENT = {2: [0], 3: [0, 1], 4: [1]}
"""Who missed which week (participant indices); everyone else attended every week. The first
misses two weeks and stays 4 of 6; the second's week 3 is then corrected to attended."""
CORRECTED = (1, 3)  # the second participant's week 3
TEAMS = {"teresa": [0, 1, 2], "tobias": [3, 4, 5]}
INITIATIVES = {"teresa": "Alpine Wood Cluster", "tobias": "Baltic Food Network"}
ELIGIBLE = [1, 2, 3, 4, 5]

STAFF_PEOPLE = {
    # account: (name, email, organisation, role)
    "teresa": ("Teresa Tutora", "teresa.tutora@faculty.example.org", "Foundation Faculty"),
    "tobias": ("Tobias Tutor", "tobias.tutor@faculty.example.org", "Foundation Faculty"),
    "hanna": ("Hanna Hofmann", "hanna.hofmann@board.example.org", "Foundation Board"),
    "ivo": ("Ivo Ilić", "ivo.ilic@board.example.org", "Foundation Board"),
}
ROLES = {"teresa": Role.TUTOR, "tobias": Role.TUTOR, "hanna": Role.COMMITTEE, "ivo": Role.COMMITTEE}


def people_csv(bad_row: int | None = None) -> bytes:
    """The 30 participants, each enrolled in the programme (named by its title); with
    `bad_row`, that row's email is not an email address."""
    lines = ["name,email,organisation,region,country,programme"]
    for row, person in enumerate(PARTICIPANTS, start=2):
        email = person.email.replace("@", " at ") if row == bad_row else person.email
        lines.append(f"{person.name},{email},{person.organisation},Cantabria,Spain,{TITLE}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass
class Story:
    """One server, the staff's accounts, and what they made, told in order."""

    server: Server
    files: Path
    reader: httpx.Client  # a registrar's token: the assertions read through the API
    accounts: dict[str, tuple[str, str]]
    people: dict[str, str] = field(default_factory=dict)  # name -> person id
    programme: str = ""
    projects: dict[str, str] = field(default_factory=dict)  # tutor's account -> project id
    awarded: dict[str, str] = field(default_factory=dict)  # name -> certificate id
    licence: str = ""
    appeal: str = ""
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    screens: list[Path] = field(default_factory=list)

    def look(self, page: Any, name: str) -> None:
        """Keep a screenshot of the screen and axe-core's serious violations on it."""
        self.screens.append(shot(page, SHOTS, name))
        found = serious_violations(page)
        if found:
            self.axe[name] = found


@pytest.fixture(scope="module")
def story(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Story]:
    directory = tmp_path_factory.mktemp("roles")
    settings = make_settings("sqlite", directory, request)
    server = start_server(settings)
    try:
        reader = server.client(server.token("registrar", Role.REGISTRAR))
        post(
            reader,
            "/v1/materials",
            {"version": MATERIAL, "title": "2012 edition", "on": "2012-11-01"},
        )
        accounts = {"rita": staff_account(server, "rita-registrar", Role.REGISTRAR)}
        yield Story(server, directory, reader, accounts)
    finally:
        stop_server(server)


def signed_in(browser: Any, story: Story, who: str) -> Any:
    viewport = {"width": 1280, "height": 900}
    return new_signed_in_page(browser, story.server, story.accounts[who], viewport=viewport)


def long(day: date) -> str:
    """A date as the console writes it out: 19 July 2013."""
    return f"{day.day} {day:%B %Y}"


def url(story: Story, path: str) -> str:
    return f"{story.server.base}{path}"


def notice(page: Any) -> str:
    return str(page.locator(".notice.success").inner_text())


def test_the_registrar_opens_a_programme_and_schedules_its_six_weeks(story: Story) -> None:
    with chromium() as browser:
        page = signed_in(browser, story, "rita")
        story.look(page, "01-dashboard-registrar")
        page.get_by_role("link", name="Programmes", exact=True).click()
        page.get_by_role("link", name="Open a programme").click()
        page.get_by_label("Title").fill(TITLE)
        page.get_by_label("Start date").fill(str(PROGRAMME_START))
        page.get_by_label("End date").fill("2013-07-31")
        page.get_by_label("Material version").select_option(MATERIAL)
        story.look(page, "02-open-a-programme")
        page.get_by_role("button", name="Open the programme").click()
        page.wait_for_url(url(story, "/console/programmes/*"))
        story.programme = page.url.rsplit("/", 1)[1]
        assert "The programme is open" in notice(page)
        for number in range(1, WEEKS + 1):
            page.get_by_role("link", name="Schedule a week").click()
            begins = week_start(number)
            page.get_by_label("First day").fill(str(begins))
            page.get_by_label("Last day").fill(str(begins + timedelta(days=4)))
            page.get_by_label("Place").fill("Santander" if number % 2 else "Vienna")
            page.get_by_label("Modules").fill(f"Module {number}")
            if number == 1:
                story.look(page, "03-schedule-a-week")
            page.get_by_role("button", name="Schedule the week").click()
            page.wait_for_url(url(story, f"/console/programmes/{story.programme}"))
        assert "6 of 6 in-class weeks scheduled" in page.locator("main").inner_text()
        story.look(page, "04-programme")


def test_the_registrar_registers_the_tutors_and_the_committee_members(story: Story) -> None:
    with chromium() as browser:
        page = signed_in(browser, story, "rita")
        for account, (name, email, organisation) in STAFF_PEOPLE.items():
            page.goto(url(story, "/console/people/new"))
            page.get_by_label("Full name").fill(name)
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Organisation").fill(organisation)
            page.get_by_label("Region").fill("Vienna")
            page.get_by_label("Country").fill("Austria")
            if account == "teresa":
                story.look(page, "05-register-a-person")
            page.get_by_role("button", name="Register").click()
            page.wait_for_url(url(story, "/console/people/*"))
            assert "Person registered" in notice(page)
            person = page.url.rsplit("/", 1)[1]
            story.people[name] = person
            story.accounts[account] = staff_account(
                story.server, f"{account}-{ROLES[account]}", ROLES[account], person
            )


def test_the_registrar_imports_thirty_people_after_fixing_the_bad_row(story: Story) -> None:
    bad, fixed = story.files / "participants-bad.csv", story.files / "participants.csv"
    bad.write_bytes(people_csv(bad_row=BAD_ROW))
    fixed.write_bytes(people_csv())
    with chromium() as browser:
        page = signed_in(browser, story, "rita")
        page.goto(url(story, f"/console/programmes/{story.programme}"))
        page.get_by_role("link", name="Import from a CSV file").click()
        page.locator("input[name=kind][value=people]").check()
        page.get_by_label("CSV file").set_input_files(str(bad))
        story.look(page, "06-import-form")
        page.get_by_role("button", name="Check the file").click()
        problems = page.locator("#problems tbody tr")
        assert problems.count() == 1
        cells = problems.first.locator("td").all_inner_texts()
        assert cells[:2] == [str(BAD_ROW), "email"], cells
        assert "nothing was written" in page.locator("main").inner_text()
        story.look(page, "07-import-problems")
        assert get(story.reader, "/v1/enrolments", programme=story.programme)["total"] == 0

        page.locator("input[name=kind][value=people]").check()
        page.get_by_label("CSV file").set_input_files(str(fixed))
        page.get_by_role("button", name="Check the file").click()
        assert "30 rows ready" in notice(page)
        story.look(page, "08-import-ready")
        assert get(story.reader, "/v1/enrolments", programme=story.programme)["total"] == 0
        page.get_by_role("button", name="Import 30 rows").click()
        page.wait_for_url(url(story, f"/console/programmes/{story.programme}"))
        assert "Imported 30 rows: 30 added" in notice(page)
        story.look(page, "09-programme-with-participants")
    found = get(story.reader, "/v1/people", programme=story.programme, limit=100)
    story.people.update({item["name"]: item["person_id"] for item in found["items"]})
    assert all(p.name in story.people for p in PARTICIPANTS)
    assert get(story.reader, "/v1/enrolments", programme=story.programme)["total"] == 30


def test_six_weeks_of_attendance_are_recorded_in_the_grid_and_one_entry_corrected(
    story: Story,
) -> None:
    grid = url(story, f"/console/programmes/{story.programme}/attendance")
    with chromium() as browser:
        page = signed_in(browser, story, "rita")
        page.goto(grid)
        for week in range(1, WEEKS + 1):
            page.get_by_role("link", name=f"Week {week}", exact=True).click()
            page.wait_for_url(f"{grid}/{week}")
            if week == 1:  # by keyboard alone: Tab to each box, Space ticks it
                page.locator("h1").focus()
                for _ in PARTICIPANTS:
                    tab_to(page, "input[type=checkbox][name=attended]:not(:checked)")
                    page.keyboard.press("Space")
                tab_to(page, "main button[type=submit]")
                assert focused_text(page) == "Save week 1"
                story.look(page, "10-attendance-week")
                page.keyboard.press("Enter")
            else:
                page.get_by_role("button", name="Tick everyone not yet recorded").click()
                for index in ABSENT.get(week, []):
                    page.get_by_label(PARTICIPANTS[index].name, exact=True).uncheck()
                page.get_by_role("button", name=f"Save week {week}").click()
            page.wait_for_url(grid)
            absent = len(ABSENT.get(week, []))
            assert f"Week {week} saved: {30 - absent} attended, {absent} absent." in notice(page)

        index, week = CORRECTED
        corrected = PARTICIPANTS[index]
        page.get_by_role("link", name=f"Week {week}", exact=True).click()
        page.get_by_role("link", name=f"Correct the entry of {corrected.name}").click()
        assert page.get_by_label("Yes, attended").is_checked()
        page.get_by_label("Reason for the correction").fill(
            "signed the afternoon register of week 3, found after the week was recorded"
        )
        story.look(page, "11-attendance-correction")
        page.get_by_role("button", name="Save the correction").click()
        page.wait_for_url(f"{grid}/{week}")
        assert f"week {week} is now recorded as attended" in notice(page)
        page.goto(grid)
        assert "4 of 6" in row_of(page, PARTICIPANTS[0].name).inner_text()
        assert "5 of 6 (1 correction)" in row_of(page, corrected.name).inner_text()
        assert "6 of 6" in row_of(page, PARTICIPANTS[2].name).inner_text()
        story.look(page, "12-attendance-grid")


def test_the_registrar_forms_two_field_projects_with_their_tutors(story: Story) -> None:
    with chromium() as browser:
        page = signed_in(browser, story, "rita")
        for tutor, members in TEAMS.items():
            page.goto(url(story, f"/console/programmes/{story.programme}/projects"))
            page.get_by_role("link", name="Register a field project").click()
            page.get_by_label("Cluster initiative").fill(INITIATIVES[tutor])
            page.get_by_label("Sector").fill(INITIATIVES[tutor].split()[1])
            page.get_by_label("Region").fill("Cantabria")
            page.get_by_label("Country").fill("Spain")
            page.get_by_role("button", name="Register the project").click()
            page.wait_for_url(url(story, "/console/projects/*"))
            story.projects[tutor] = page.url.rsplit("/", 1)[1]

            name = STAFF_PEOPLE[tutor][0]
            page.get_by_role("link", name="Assign the tutor").click()
            page.get_by_label("Search people").fill(name.split()[0])
            page.get_by_role("button", name="Search").click()
            page.get_by_label(name).check()
            page.get_by_role("button", name="Assign the tutor").click()
            page.wait_for_url(url(story, f"/console/projects/{story.projects[tutor]}"))

            page.get_by_role("link", name="Add team members").click()
            for index in members:
                page.get_by_label(PARTICIPANTS[index].name, exact=True).check()
            if tutor == "teresa":
                story.look(page, "13-add-team-members")
            page.get_by_role("button", name="Add to the team").click()
            page.wait_for_url(url(story, f"/console/projects/{story.projects[tutor]}"))
            assert "3 members added" in notice(page)
        page.goto(url(story, f"/console/programmes/{story.programme}/projects"))
        assert page.locator(".card").count() == 2
        story.look(page, "14-project-board")


def test_each_tutor_signs_off_their_own_project(story: Story) -> None:
    with chromium() as browser:
        for tutor in TEAMS:
            mine = story.projects[tutor]
            other = next(p for t, p in story.projects.items() if t != tutor)
            page = signed_in(browser, story, tutor)
            story.look(page, f"15-dashboard-tutor-{tutor}")
            page.goto(url(story, f"/console/projects/{other}"))
            assert page.get_by_role("link", name="Sign off the project").count() == 0
            page.goto(url(story, f"/console/projects/{mine}"))
            page.get_by_role("link", name="Sign off the project").click()
            page.get_by_label("Note (optional)").fill("the cluster's action plan was delivered")
            page.get_by_label("Date (optional)").fill(SIGNED_OFF_ON)
            if tutor == "teresa":
                story.look(page, "16-sign-off")
            page.get_by_role("button", name="Sign off the project").click()
            page.wait_for_url(url(story, f"/console/projects/{mine}"))
            assert "The project is signed off." in notice(page)
            assert "Signed off on 10 July 2013" in page.locator("main").inner_text()
    roster = get(story.reader, f"/v1/programmes/{story.programme}/roster")
    signed = {r["person_id"] for r in roster["participants"] if r["rules"]["R3"]["met"]}
    expected = {story.people[PARTICIPANTS[i].name] for team in TEAMS.values() for i in team}
    assert signed == expected


def test_the_committee_awards_the_eligible_and_reads_why_the_others_are_not(
    story: Story,
) -> None:
    roster = url(story, f"/console/programmes/{story.programme}/roster")
    with chromium() as browser:
        page = signed_in(browser, story, "hanna")
        story.look(page, "17-dashboard-committee")
        page.goto(roster)
        story.look(page, "18-roster-before")
        assert (
            "Attended 4 of 6 weeks, 5 required" in row_of(page, PARTICIPANTS[0].name).inner_text()
        )
        outside = row_of(page, PARTICIPANTS[10].name)
        assert "In no field project" in outside.inner_text()
        assert outside.get_by_role("link").filter(has_text="Award").count() == 0
        offered = page.get_by_role("link", name="Award Associate Trainer to")
        assert offered.count() == len(ELIGIBLE)

        for index in ELIGIBLE:
            person = PARTICIPANTS[index]
            row_of(page, person.name).get_by_role("link", name="Award").click()
            page.wait_for_url("**/award/*")
            assert "Not met" not in page.locator("table").inner_text()
            page.get_by_label("Date of effect").fill(AWARDED_ON)
            if index == ELIGIBLE[0]:
                story.look(page, "19-award-check")
            page.get_by_role("button", name="Award", exact=True).click()
            page.wait_for_url(roster)
            assert person.name in notice(page)
            certificate = row_of(page, person.name).get_by_role("link", name="AT-").inner_text()
            story.awarded[person.name] = certificate.strip()
        story.look(page, "20-roster-after")
        assert page.get_by_role("link", name="Award Associate Trainer to").count() == 0
        # Those not awarded still read why, in words.
        assert "Attended 4 of 6 weeks" in row_of(page, PARTICIPANTS[0].name).inner_text()
    assert len(story.awarded) == len(ELIGIBLE)


def test_a_licence_is_granted_suspended_appealed_reinstated_and_revoked(story: Story) -> None:
    holder = PARTICIPANTS[ELIGIBLE[1]]
    qualification = story.awarded[holder.name]
    with chromium() as browser:
        # The registrar records the course the licence needs (R5).
        registrar = signed_in(browser, story, "rita")
        registrar.goto(url(story, f"/console/people/{story.people[holder.name]}"))
        registrar.get_by_role("link", name="Record a course delivered").click()
        registrar.get_by_label("Date delivered").fill("2014-03-01")
        registrar.get_by_label("Region").fill("Cantabria")
        registrar.get_by_label("Number of participants").fill("14")
        registrar.get_by_role("button", name="Record the course").click()
        registrar.wait_for_url(url(story, f"/console/people/{story.people[holder.name]}"))
        assert "Course recorded." in notice(registrar)

        page = signed_in(browser, story, "hanna")
        page.goto(url(story, f"/console/certificates/{qualification}"))
        story.look(page, "21-qualification")
        page.get_by_role("link", name="Grant a licence").click()
        page.get_by_label("Regions").fill("Cantabria, Asturias")
        page.get_by_label("Languages").fill("Spanish, English")
        page.get_by_label("Material version").select_option(MATERIAL)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/grant-licence/check")
        story.look(page, "22-grant-check")
        page.get_by_role("button", name="Grant the licence").click()
        page.wait_for_url(url(story, "/console/certificates/LT-*"))
        story.licence = page.url.rsplit("/", 1)[1]
        assert verify(story.server, story.licence)["status"] == "valid"

        page.get_by_role("link", name="Suspend the licence").click()
        page.get_by_label("Reason").fill("complaint from a cluster under review")
        page.get_by_label("Suspended until").fill(str(today() + timedelta(days=60)))
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Suspend licence").click()
        page.wait_for_url(url(story, f"/console/certificates/{story.licence}"))
        story.look(page, "23-licence-suspended")
        assert verify(story.server, story.licence)["status"] == "suspended"

        # The holder appeals the suspension; the registrar lodges it.
        registrar.goto(url(story, f"/console/certificates/{story.licence}"))
        registrar.get_by_role("link", name="Lodge an appeal against a decision").click()
        registrar.get_by_label("Licence suspended on").check()
        registrar.get_by_label("Grounds of the appeal").fill(
            "the complaint concerns another trainer of the cluster"
        )
        story.look(registrar, "24-appeal-lodge")
        registrar.get_by_role("button", name="Continue").click()
        registrar.get_by_role("button", name="Lodge appeal").click()
        registrar.wait_for_url(url(story, "/console/appeals/*"))
        story.appeal = registrar.url.rsplit("/", 1)[1]

        # Not offered to the member who suspended the licence (R11) ...
        page.goto(url(story, f"/console/appeals/{story.appeal}"))
        assert page.locator("main form").count() == 0
        assert "R11" in page.locator(".notice.warning").inner_text()
        story.look(page, "25-appeal-not-offered")

        # ... upheld by another member of the panel.
        panel = signed_in(browser, story, "ivo")
        story.look(panel, "26-dashboard-panel")
        panel.goto(url(story, f"/console/appeals/{story.appeal}"))
        panel.get_by_label("Upheld").check()
        panel.get_by_label("The panel's reasoning").fill(
            "the complaint named a trainer who is not the holder"
        )
        panel.get_by_role("button", name="Continue").click()
        story.look(panel, "27-appeal-check")
        panel.get_by_role("button", name="Record decision").click()
        panel.wait_for_url(url(story, f"/console/appeals/{story.appeal}"))
        assert "Appeal upheld" in notice(panel)
        assert "Ivo Ilić" in panel.locator("dl").inner_text()
        story.look(panel, "28-appeal-decided")

        page.goto(url(story, f"/console/certificates/{story.licence}"))
        page.get_by_role("link", name="Reinstate the licence").click()
        page.get_by_role("button", name="Reinstate licence").click()
        page.wait_for_url(url(story, f"/console/certificates/{story.licence}"))
        assert verify(story.server, story.licence)["status"] == "valid"

        page.get_by_role("link", name="Revoke the licence").click()
        page.get_by_label("Reason").fill("courses run without the Foundation's material")
        page.get_by_role("button", name="Continue").click()
        story.look(page, "29-revoke-check")
        page.get_by_role("button", name="Revoke licence").click()
        page.wait_for_url(url(story, f"/console/certificates/{story.licence}"))
        story.look(page, "30-licence-revoked")

        text = page.locator("main").inner_text()
        assert f"Appeal lodged on {long(today())}" in text
        assert "Reinstate the licence: not offered. R8" in text

        registrar.goto(url(story, f"/console/people/{story.people[holder.name]}"))
        story.look(registrar, "31-person-timeline")
        timeline = registrar.locator("ol.timeline").inner_text()
        for what in ("Associate Trainer", "suspended", "reinstated", "revoked"):
            assert what in timeline, what


def trust_root(server: Server, folder: Path) -> Path:
    """The ledger's trust root as `ledger trust-root` prints it, in a file."""
    printed = subprocess.run(
        [sys.executable, "-m", "ledger", "trust-root"],
        env=server_env(server.settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    path = folder / "trust-root.json"
    path.write_text(printed.stdout)
    return path


def test_every_result_is_on_verify_and_the_live_audit_passes(story: Story) -> None:
    server = story.server
    for name, certificate in story.awarded.items():
        answer = verify(server, certificate)
        assert (answer["status"], answer["kind"]) == ("valid", "associate_trainer")
        assert answer["valid_from"] == AWARDED_ON
        assert answer["holder"] is None or answer["holder"] == name
    licence = verify(server, story.licence)
    assert (licence["status"], licence["reason"]) == (
        "revoked",
        "courses run without the Foundation's material",
    )
    assert licence["scope"]["regions"] == ["Cantabria", "Asturias"]
    page = verify_page(server, story.licence)
    assert "Revoked" in page
    proof = licence["log"]
    for name in (PARTICIPANTS[0].name, PARTICIPANTS[10].name):  # not awarded: no certificate
        history = get(story.reader, f"/v1/trainers/{story.people[name]}/history")
        assert not [e for e in history["events"] if e["type"].startswith("certificate.")]

    records = log_size(server)
    audited = subprocess.run(
        [
            sys.executable,
            "-m",
            "ledger",
            "audit",
            "--live",
            "--json",
            "--trust",
            str(trust_root(server, story.files)),
        ],
        env=server_env(server.settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr[-2000:]
    report = json.loads(audited.stdout)
    assert report["ok"], report["problems"]
    assert report["pinned"]
    assert report["records"] == records
    assert proof is not None, "the licence's grant is under no signed checkpoint yet"
    assert proof["position"] < proof["tree_size"] <= records


def test_no_screen_of_the_story_has_a_serious_accessibility_violation(story: Story) -> None:
    assert len(story.axe) == 0, story.axe
