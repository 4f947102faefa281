"""The registrar's and the tutor's programme pages in real Chromium against the real server
process: a programme opened and its weeks scheduled through the pages; 30 people imported with
their enrolments from a CSV file whose bad row is shown before anything is written, then fixed
and imported in one go; six weeks of attendance recorded in the grid (one save a week, the
first by keyboard alone) and one entry corrected with its reason; a field project registered
and staffed, signed off by its own tutor, while another tutor is not offered it and a forced
POST is refused naming R3. axe-core finds no serious or critical violation on these pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.console_support import (
    chromium,
    focused_text,
    keep_violations,
    new_signed_in_page,
    row_of,
    staff_account,
    tab_to,
)
from tests.e2e.registrar_support import (
    PROGRAMME_START,
    WEEKS,
    Foundation,
    Person,
    get,
    post,
    week_start,
)

TITLE = "Programme of the attendance grid"
FIRST = ("Ane", "Berit", "Ciro", "Dalia", "Emre", "Fenna", "Goran", "Hedda", "Ilse", "Jonas")
LAST = ("Arrieta", "Brønstad", "Cortés")
BAD_ROW = 5  # as the spreadsheet numbers it: the header is row 1


@dataclass
class Participant:
    name: str
    email: str
    organisation: str


PARTICIPANTS = [
    Participant(
        f"{first} {last}",
        f"{first.lower()}.{last.lower().replace('ø', 'o').replace('é', 'e')}@agency.example.org",
        f"Cluster Agency {index:02d}",
    )
    for index, (last, first) in enumerate(
        ((surname, given) for surname in LAST for given in FIRST), start=1
    )
]


def people_csv(bad_row: int | None = None) -> bytes:
    """The 30 participants, each enrolled in the programme (by its title); with `bad_row`,
    that row's email is not an email address."""
    lines = ["name,email,organisation,region,country,programme"]
    for row, person in enumerate(PARTICIPANTS, start=2):
        email = person.email.replace("@", "-at-") if row == bad_row else person.email
        lines.append(f"{person.name},{email},{person.organisation},Cantabria,Spain,{TITLE}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass
class Grid:
    """One server for the whole story, the staff who work on it, and what they made."""

    server: Server
    staff: Foundation
    tilda: Person
    bruno: Person
    accounts: dict[str, tuple[str, str]]
    files: Path
    programme: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # participant name -> person id
    projects: dict[str, str] = field(default_factory=dict)
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def grid(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Grid]:
    directory = tmp_path_factory.mktemp("programmes")
    settings = make_settings("sqlite", directory, request)
    server = start_server(settings)
    try:
        staff = Foundation.on(server)
        post(
            staff.registrar,
            "/v1/materials",
            {"version": "ECEI-2012", "title": "2012 edition", "on": "2012-11-01"},
        )
        tilda = staff.tutor("Tilda Tutorial", "tilda.tutorial@faculty.example.org")
        bruno = staff.tutor("Bruno Beirat", "bruno.beirat@faculty.example.org")
        accounts = {
            "rita": staff_account(server, "rita-registrar", Role.REGISTRAR),
            "tilda": staff_account(server, "tilda-tutor", Role.TUTOR, tilda.person_id),
            "bruno": staff_account(server, "bruno-tutor", Role.TUTOR, bruno.person_id),
        }
        yield Grid(server, staff, tilda, bruno, accounts, directory)
    finally:
        stop_server(server)


def signed_in(browser: Any, grid: Grid, who: str) -> Any:
    return new_signed_in_page(browser, grid.server, grid.accounts[who])


def checked(page: Any, grid: Grid, name: str) -> None:
    keep_violations(page, grid.axe, name)


def enrolments(grid: Grid) -> int:
    found = get(grid.staff.registrar, "/v1/enrolments", programme=grid.programme, limit=200)
    return int(found["total"])


def test_the_registrar_opens_a_programme_and_schedules_its_weeks(grid: Grid) -> None:
    base = grid.server.base
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")
        page.goto(f"{base}/console/programmes")
        checked(page, grid, "programme list")
        page.get_by_role("link", name="Open a programme").click()
        checked(page, grid, "open a programme")
        page.get_by_role("button", name="Open the programme").click()
        summary = page.locator(".error-summary").inner_text()
        assert "Enter the title" in summary
        assert "Enter the start date" in summary
        checked(page, grid, "open a programme, with errors")

        page.get_by_label("Title").fill(TITLE)
        page.get_by_label("Start date").fill(str(PROGRAMME_START))
        page.get_by_label("End date").fill("2013-07-31")
        page.get_by_label("Material version").select_option("ECEI-2012")
        assert page.get_by_label("Weeks required").input_value() == "5"
        page.get_by_role("button", name="Open the programme").click()
        page.wait_for_url(f"{base}/console/programmes/*")
        grid.programme = page.url.rsplit("/", 1)[1]
        assert "The programme is open" in page.locator(".notice.success").inner_text()
        assert "5 of 6 in-class weeks" in page.locator("dl").inner_text()

        for number in range(1, WEEKS + 1):
            page.get_by_role("link", name="Schedule a week").click()
            if number == 1:
                checked(page, grid, "schedule a week")
            assert page.get_by_label("Week number").input_value() == str(number)
            begins = week_start(number)
            page.get_by_label("First day").fill(str(begins))
            page.get_by_label("Last day").fill(str(begins + timedelta(days=4)))
            page.get_by_label("Place").fill("Barcelona" if number % 3 else "Linz")
            page.get_by_label("Modules").fill(f"Module {number}a\nModule {number}b")
            page.get_by_role("button", name="Schedule the week").click()
            page.wait_for_url(f"{base}/console/programmes/{grid.programme}")
            assert f"Week {number} is scheduled" in page.locator(".notice.success").inner_text()
        weeks = page.locator("table").first.inner_text()
        assert "6 of 6 in-class weeks scheduled" in weeks
        assert "3 to 7 December 2012" in weeks
        assert page.get_by_role("link", name="Schedule a week").count() == 0
        checked(page, grid, "programme page")


def test_the_registrar_imports_thirty_people_after_fixing_the_bad_row_by_keyboard(
    grid: Grid,
) -> None:
    base = grid.server.base
    bad, fixed = grid.files / "participants-bad.csv", grid.files / "participants.csv"
    bad.write_bytes(people_csv(bad_row=BAD_ROW))
    fixed.write_bytes(people_csv())
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")
        page.goto(f"{base}/console/programmes/{grid.programme}")
        page.get_by_role("link", name="Import from a CSV file").click()
        page.wait_for_url(f"{base}/console/programmes/{grid.programme}/import")
        checked(page, grid, "import form")
        template = page.request.get(f"{base}/console/import/templates/people.csv")
        assert template.ok
        assert template.text().startswith("\ufeffname,email,organisation")

        # Keyboard alone: the kind of file, the file itself, then the button.
        page.locator("h1").focus()
        tab_to(page, "input[type=radio][name=kind]")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowUp")
        assert page.evaluate("document.activeElement.value") == "people"
        page.get_by_label("CSV file").set_input_files(str(bad))
        tab_to(page, "main button[type=submit]")
        assert focused_text(page) == "Check the file"
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        summary = page.locator(".error-summary").inner_text()
        assert "The file has 1 problem in 1 row; nothing was written" in summary
        problems = page.locator("#problems tbody tr")
        assert problems.count() == 1
        cells = problems.first.locator("td").all_inner_texts()
        assert cells[:2] == [str(BAD_ROW), "email"]
        assert "is not an email address" in cells[2]
        assert "save it again as CSV UTF-8" in page.locator("main").inner_text()
        checked(page, grid, "import problems")
        assert enrolments(grid) == 0  # nothing was written

        # The fixed file, uploaded again from the same page: ready, and still nothing written.
        page.get_by_label("CSV file").set_input_files(str(fixed))
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        ready = page.locator(".notice.success").inner_text()
        assert "30 rows ready: 30 to add, 0 already recorded" in ready
        checked(page, grid, "import ready")
        assert enrolments(grid) == 0

        page.locator("h1").focus()
        tab_to(page, "main button[type=submit]")
        assert focused_text(page) == "Import 30 rows"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/console/programmes/{grid.programme}")
        notice = page.locator(".notice.success").inner_text()
        assert "Imported 30 rows: 30 added, 0 already recorded" in notice
        assert "30 participants" in page.locator("table caption").nth(1).inner_text()
        assert enrolments(grid) == 30
        for item in get(grid.staff.registrar, "/v1/people", programme=grid.programme, limit=200)[
            "items"
        ]:
            grid.ids[item["name"]] = item["person_id"]
        assert sorted(grid.ids) == sorted(p.name for p in PARTICIPANTS)

        page.goto(f"{base}/console/programmes")
        assert "1 programme" in page.locator("caption").inner_text()
        checked(page, grid, "programme list with a programme")
        page.get_by_role("link", name="Import people, enrolments or attendance").click()
        page.wait_for_url(f"{base}/console/import")
        checked(page, grid, "import form of any programme")

        # The same file again adds nothing.
        page.goto(f"{base}/console/programmes/{grid.programme}/import")
        page.get_by_label("CSV file").set_input_files(str(fixed))
        page.get_by_role("button", name="Check the file").click()
        assert "importing it would add nothing" in page.locator(".notice").inner_text()
        assert page.get_by_role("button", name="Import 30 rows").count() == 0


ABSENT = {2: PARTICIPANTS[0].name, 3: PARTICIPANTS[1].name, 4: PARTICIPANTS[1].name}
"""Who was absent which week; everyone else attended every week."""


def test_six_weeks_are_recorded_in_the_grid_the_first_by_keyboard_alone(grid: Grid) -> None:
    base = grid.server.base
    overview = f"{base}/console/programmes/{grid.programme}/attendance"
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")
        page.goto(overview)
        checked(page, grid, "attendance grid, empty")
        for week in range(1, WEEKS + 1):
            page.get_by_role("link", name=f"Week {week}", exact=True).click()
            page.wait_for_url(f"{overview}/{week}")
            legend = page.locator("legend").inner_text()
            begins = week_start(week)
            assert legend.startswith(f"Week {week}, {begins.day} to ")
            assert legend.endswith("Barcelona" if week % 3 else "Linz")
            if week == 1:
                checked(page, grid, "week form")
                # Keyboard alone: Tab to each box, Space to tick it, then the button.
                page.locator("h1").focus()
                for _ in PARTICIPANTS:
                    tab_to(page, "input[type=checkbox][name=attended]:not(:checked)")
                    page.keyboard.press("Space")
                assert page.locator("input[name=attended]:checked").count() == 30
                tab_to(page, "main button[type=submit]")
                assert focused_text(page) == "Save week 1"
                page.keyboard.press("Space")
            else:
                page.get_by_role("button", name="Tick everyone not yet recorded").click()
                if week in ABSENT:
                    page.get_by_label(ABSENT[week], exact=True).uncheck()
                page.get_by_role("button", name=f"Save week {week}").click()
            page.wait_for_url(overview)
            attended = 29 if week in ABSENT else 30
            expected = f"Week {week} saved: {attended} attended, {30 - attended} absent."
            assert expected in page.locator(".notice.success").inner_text()
        checked(page, grid, "attendance grid, recorded")
        first, second = PARTICIPANTS[0].name, PARTICIPANTS[1].name
        assert "5 of 6" in row_of(page, first).inner_text()
        assert "4 of 6" in row_of(page, second).inner_text()
        assert "6 of 6" in row_of(page, PARTICIPANTS[2].name).inner_text()
        cells = row_of(page, second).locator("td").all_inner_texts()
        assert [c[0] for c in cells[:WEEKS]] == ["✓", "✓", "✗", "✗", "✓", "✓"]


def test_a_recorded_entry_is_corrected_only_with_a_reason(grid: Grid) -> None:
    base = grid.server.base
    first = PARTICIPANTS[0]
    person = grid.ids[first.name]
    week = f"{base}/console/programmes/{grid.programme}/attendance/2"
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")

        # Changing a recorded box in the week's form without a reason: refused, nothing written.
        page.goto(week)
        page.get_by_label(first.name, exact=True).check()
        page.get_by_role("button", name="Save week 2").click()
        summary = page.locator(".error-summary").inner_text()
        assert f"Give the reason for changing what was recorded for {first.name}" in summary
        checked(page, grid, "week form, correction without a reason")
        assert page.get_by_label(first.name, exact=True).is_checked()  # the answer is kept
        assert grid.staff.roster_row(grid.programme, person)["attendance"]["2"] is False

        # The entry's own correction page: attended after all, with the reason.
        page.goto(week)
        page.get_by_role("link", name=f"Correct the entry of {first.name}").click()
        page.wait_for_url(f"{week}/{person}/correction")
        checked(page, grid, "correction form")
        assert page.get_by_label("Yes, attended").is_checked()  # the other answer proposed
        page.get_by_role("button", name="Save the correction").click()
        assert "Give the reason for the correction" in page.locator(".error-summary").inner_text()
        page.get_by_label("Reason for the correction").fill(
            "the afternoon sign-in sheet was found after the week was recorded"
        )
        page.get_by_role("button", name="Save the correction").click()
        page.wait_for_url(week)
        notice = page.locator(".notice.success").inner_text()
        assert "week 2 is now recorded as attended" in notice
        page.goto(f"{base}/console/programmes/{grid.programme}/attendance")
        assert "6 of 6 (1 correction)" in row_of(page, first.name).inner_text()

    row = grid.staff.roster_row(grid.programme, person)
    assert (row["attendance"]["2"], row["corrections"], row["weeks_attended"]) == (True, 1, 6)
    history = grid.staff.history_types(person)
    assert history.count("enrolment.attendance_corrected") == 1


def test_the_registrar_enrols_several_people_found_by_search(grid: Grid) -> None:
    base = grid.server.base
    late = [
        grid.staff.register("Kasia Późna", "kasia.pozna@agency.example.org", "Agency Late"),
        grid.staff.register("Kasimir Spät", "kasimir.spat@agency.example.org", "Agency Later"),
    ]
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")
        page.goto(f"{base}/console/programmes/{grid.programme}")
        page.get_by_role("link", name="Enrol people").click()
        page.get_by_label("Search people").fill("kasi")
        page.get_by_role("button", name="Search").click()
        checked(page, grid, "enrol people")
        page.get_by_role("button", name="Enrol the selected people").click()
        assert "Select at least one person" in page.locator(".error-summary").inner_text()
        for person in late:
            page.get_by_label(person.name).check()
        page.get_by_role("button", name="Enrol the selected people").click()
        page.wait_for_url(f"{base}/console/programmes/{grid.programme}")
        assert "2 people enrolled" in page.locator(".notice.success").inner_text()
        assert "32 participants" in page.locator("table caption").nth(1).inner_text()
    assert enrolments(grid) == 32


def test_the_registrar_registers_a_project_and_assigns_its_tutor_and_team(grid: Grid) -> None:
    base = grid.server.base
    members = [PARTICIPANTS[3].name, PARTICIPANTS[4].name]
    with chromium() as browser:
        page = signed_in(browser, grid, "rita")
        page.goto(f"{base}/console/programmes/{grid.programme}/projects")
        page.get_by_role("link", name="Register a field project").click()
        checked(page, grid, "register a project")
        page.get_by_label("Cluster initiative").fill("Marine Energy Cluster")
        page.get_by_label("Sector").fill("Energy")
        page.get_by_label("Region").fill("Basque Country")
        page.get_by_label("Country").fill("Spain")
        page.get_by_role("button", name="Register the project").click()
        page.wait_for_url(f"{base}/console/projects/*")
        grid.projects["tilda"] = page.url.rsplit("/", 1)[1]

        page.get_by_role("link", name="Assign the tutor").click()
        page.get_by_label("Search people").fill("tilda")
        page.get_by_role("button", name="Search").click()
        checked(page, grid, "assign the tutor")
        page.get_by_label(grid.tilda.name).check()
        page.get_by_role("button", name="Assign the tutor").click()
        page.wait_for_url(f"{base}/console/projects/{grid.projects['tilda']}")

        page.get_by_role("link", name="Add team members").click()
        checked(page, grid, "add team members")
        for name in members:
            page.get_by_label(name, exact=True).check()
        page.get_by_role("button", name="Add to the team").click()
        page.wait_for_url(f"{base}/console/projects/{grid.projects['tilda']}")
        assert "2 members added" in page.locator(".notice.success").inner_text()
        details = page.locator("dl").inner_text()
        assert grid.tilda.name in details
        assert all(name in details for name in members)
        checked(page, grid, "project page")
        # Signing off is the tutor's act alone: not offered to the registrar.
        assert page.get_by_role("link", name="Sign off the project").count() == 0

    grid.projects["bruno"] = grid.staff.project(
        grid.programme,
        "Wicker Craft Network",
        grid.bruno.person_id,
        [grid.ids[PARTICIPANTS[5].name]],
    )


def forced_post(page: Any, action: str, fields: dict[str, str]) -> Any:
    """Post a form the page does not offer, with the page's own CSRF token, as a browser
    would if its form's action were changed."""
    token = page.locator("input[name=csrf_token]").first.input_value()
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, {"csrf_token": token, **fields}],
        )
    return navigation.value


def test_the_tutor_signs_off_their_project_and_cannot_sign_off_another(grid: Grid) -> None:
    base = grid.server.base
    mine, theirs = grid.projects["tilda"], grid.projects["bruno"]
    with chromium() as browser:
        page = signed_in(browser, grid, "tilda")
        page.goto(f"{base}/console/programmes/{grid.programme}/projects")
        checked(page, grid, "project board")
        cards = page.locator(".card")
        assert cards.count() == 2
        my_card = cards.filter(has_text="Marine Energy Cluster")
        assert "Your project" in my_card.inner_text()
        assert "Open" in my_card.inner_text()
        assert "Your project" not in cards.filter(has_text="Wicker Craft Network").inner_text()

        # Another tutor's project: no sign-off offered; a forced POST is refused naming R3.
        page.goto(f"{base}/console/projects/{theirs}")
        assert page.get_by_role("link", name="Sign off the project").count() == 0
        assert page.get_by_role("link", name="Return it for rework").count() == 0
        page.goto(f"{base}/console/projects/{theirs}/sign-off")
        assert page.locator("main form").count() == 0
        assert "R3: only the project's own tutor" in page.locator(".notice.warning").inner_text()
        checked(page, grid, "sign-off refused")
        response = forced_post(page, f"{base}/console/projects/{theirs}/sign-off", {"note": ""})
        assert response.status == 409
        assert (
            "R3: only the project's own tutor can sign it off"
            in page.locator(".error-summary").inner_text()
        )
        checked(page, grid, "forced sign-off refused")
        assert (
            grid.staff.roster_row(grid.programme, grid.ids[PARTICIPANTS[5].name])["project"][
                "status"
            ]
            == "open"
        )

        # Attendance: this programme's policy does not let tutors record it.
        page.goto(f"{base}/console/programmes/{grid.programme}/attendance/1")
        notice = page.locator(".notice.warning").inner_text()
        assert "POLICY: tutors may not record attendance in this programme" in notice
        checked(page, grid, "week refused to a tutor")
        person = grid.ids[PARTICIPANTS[6].name]
        response = forced_post(
            page,
            f"{base}/console/programmes/{grid.programme}/attendance/1",
            {"participant": person},
        )
        assert response.status == 409
        assert "POLICY: tutors may not record" in page.locator(".error-summary").inner_text()

        # Their own project: signed off, with a note and the date.
        page.goto(f"{base}/console/projects/{mine}/return")
        checked(page, grid, "return for rework")
        page.goto(f"{base}/console/projects/{mine}")
        checked(page, grid, "project page of its tutor")
        assert page.get_by_role("link", name="Return it for rework").count() == 1
        page.get_by_role("link", name="Sign off the project").click()
        page.wait_for_url(f"{base}/console/projects/{mine}/sign-off")
        checked(page, grid, "sign-off form")
        page.get_by_label("Note (optional)").fill("the cluster's action plan was delivered")
        page.get_by_label("Date (optional)").fill("2013-07-10")
        page.get_by_role("button", name="Sign off the project").click()
        page.wait_for_url(f"{base}/console/projects/{mine}")
        assert "The project is signed off." in page.locator(".notice.success").inner_text()
        assert "Signed off on 10 July 2013" in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Withdraw the sign-off").count() == 1
        page.get_by_role("link", name="Withdraw the sign-off").click()
        checked(page, grid, "withdraw the sign-off")

    member = grid.staff.roster_row(grid.programme, grid.ids[PARTICIPANTS[3].name])
    assert member["project"]["status"] == "signed_off"
    assert member["project"]["signed_off_on"] == "2013-07-10"
    assert member["rules"]["R3"]["met"] is True


def test_a_tutor_records_attendance_where_the_policy_allows_but_corrects_nothing(
    grid: Grid,
) -> None:
    base = grid.server.base
    staff = grid.staff
    programme: str = post(
        staff.registrar,
        "/v1/programmes",
        {
            "title": "Programme whose tutors record attendance",
            "starts_on": str(PROGRAMME_START),
            "ends_on": "2013-07-31",
            "material_version": "ECEI-2012",
            "policy": {"tutors_record_attendance": 1},
        },
    )["id"]
    begins = week_start(1)
    post(
        staff.registrar,
        f"/v1/programmes/{programme}/weeks",
        {
            "number": 1,
            "starts_on": str(begins),
            "ends_on": str(begins + timedelta(days=4)),
            "place": "Graz",
            "modules": ["Module 1"],
        },
    )
    lotte = staff.register("Lotte Lanz", "lotte.lanz@agency.example.org", "Agency Lanz")
    mirko = staff.register("Mirko Moser", "mirko.moser@agency.example.org", "Agency Moser")
    for person in (lotte, mirko):
        staff.enrol(programme, person.person_id)
    staff.attendance(programme, 1, {mirko.person_id: True})
    staff.project(programme, "Alpine Wood Cluster", grid.tilda.person_id, [lotte.person_id])
    week = f"{base}/console/programmes/{programme}/attendance/1"
    with chromium() as browser:
        page = signed_in(browser, grid, "tilda")
        page.goto(week)
        checked(page, grid, "week form of a tutor")
        assert page.get_by_label(mirko.name).is_disabled()
        assert page.get_by_label(mirko.name).is_checked()
        assert page.get_by_role("link", name=f"Correct the entry of {mirko.name}").count() == 0
        assert page.get_by_label("Reason for a correction", exact=False).count() == 0
        page.get_by_label(lotte.name).check()
        page.get_by_role("button", name="Save week 1").click()
        page.wait_for_url(f"{base}/console/programmes/{programme}/attendance")
        assert "Week 1 saved: 1 attended, 0 absent." in page.locator(".notice.success").inner_text()
        response = page.goto(f"{week}/{mirko.person_id}/correction")
        assert response is not None
        assert response.status == 403
    assert staff.roster_row(programme, lotte.person_id)["attendance"] == {"1": True}


def test_no_programme_page_has_a_serious_accessibility_violation(grid: Grid) -> None:
    assert len(grid.axe) == 0, grid.axe
