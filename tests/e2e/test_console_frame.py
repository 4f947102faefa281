"""The front door, the dashboard of each role and the reports page, in real Chromium against
the real server process: a mistyped certificate id still finds its verification page (by
mouse and by keyboard alone), each role's dashboard lists what it must do with a link to
where it is done, and axe-core finds no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.console_support import (
    chromium,
    new_signed_in_page,
    serious_violations,
    staff_account,
)
from tests.e2e.registrar_support import WEEKS, Foundation, Person, post, today

TITLE = "Programme of the console's dashboard"


@dataclass
class History:
    """A small history with something for every role to do, and a staff account per role."""

    server: Server
    programme: str
    qualification: str
    licence: str
    appeal: str
    upcoming: str
    eligible: Person
    awarded: Person
    waiting: Person
    waiting_project: str
    signed_project: str
    accounts: dict[Role, tuple[str, str]]


def build_history(server: Server) -> History:
    staff = Foundation.on(server)
    programme = staff.open_programme(TITLE)
    tutor = staff.tutor("Tilda Tutorial", "tilda.tutorial@faculty.example.org")
    awarded = staff.register("Ana Awarded", "ana.awarded@agency.example.org", "Agency North")
    qualification = staff.qualified(programme, awarded, tutor, "Marine Energy")

    # Eligible, not yet awarded: every week attended, the project signed off by its tutor.
    eligible = staff.register("Elena Eligible", "elena.eligible@agency.example.org", "Agency")
    staff.enrol(programme, eligible.person_id)
    for week in range(1, WEEKS + 1):
        staff.attendance(programme, week, {eligible.person_id: True})
    signed = staff.project(programme, "Smart Textile", tutor.person_id, [eligible.person_id])
    staff.sign_off(signed, tutor.person_id)

    # Waiting: the last week's attendance not recorded, the project not signed off.
    waiting = staff.register("Walter Waiting", "walter.waiting@agency.example.org", "Agency West")
    staff.enrol(programme, waiting.person_id)
    for week in range(1, WEEKS):
        staff.attendance(programme, week, {waiting.person_id: True})
    open_project = staff.project(programme, "Green Logistics", tutor.person_id, [waiting.person_id])

    # A licence ending within 90 days, suspended until 20 days from now, its suspension appealed.
    day = today()
    granted = day.replace(year=day.year - 2) + timedelta(days=30)
    post(
        staff.registrar,
        f"/v1/people/{awarded.person_id}/courses",
        {
            "delivered_on": str(granted - timedelta(days=30)),
            "region": "Cantabria",
            "participants": 9,
        },
    )
    post(
        staff.registrar,
        "/v1/materials",
        {"version": "ECEI-2014", "title": "2014 edition", "on": "2014-01-10"},
    )
    licence: str = post(
        staff.committee,
        "/v1/licences",
        {
            "qualification_id": qualification,
            "regions": ["Cantabria"],
            "languages": ["es"],
            "material_version": "ECEI-2014",
            "on": str(granted),
        },
    )["id"]
    post(
        staff.committee,
        f"/v1/licences/{licence}/suspension",
        {"reason": "complaint under review", "until": str(day + timedelta(days=20))},
    )
    appeal: str = post(
        staff.registrar,
        "/v1/appeals",
        {"certificate_id": licence, "decision_version": 2, "grounds": "the complaint is unfounded"},
    )["id"]

    # A programme starting next month, nobody enrolled yet: the registrar is reminded.
    upcoming: str = post(
        staff.registrar,
        "/v1/programmes",
        {
            "title": "Programme starting next month",
            "starts_on": str(day + timedelta(days=30)),
            "ends_on": str(day + timedelta(days=200)),
            "material_version": "ECEI-2014",
        },
    )["id"]

    panel = staff.register("Hugo Panel", "hugo.panel@board.example.org", "Foundation Board")
    accounts = {
        Role.REGISTRAR: staff_account(server, "rita-registrar", Role.REGISTRAR),
        Role.ADMIN: staff_account(server, "adam-admin", Role.ADMIN),
        Role.TUTOR: staff_account(server, "tilda-tutor", Role.TUTOR, tutor.person_id),
        Role.COMMITTEE: staff_account(server, "hugo-panel", Role.COMMITTEE, panel.person_id),
        Role.AUDITOR: staff_account(server, "aude-auditor", Role.AUDITOR),
    }
    return History(
        server,
        programme,
        qualification,
        licence,
        appeal,
        upcoming,
        eligible,
        awarded,
        waiting,
        open_project,
        signed,
        accounts,
    )


@pytest.fixture(scope="module")
def history(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[History]:
    settings = make_settings("sqlite", tmp_path_factory.mktemp("frame"), request)
    server = start_server(settings)
    try:
        yield build_history(server)
    finally:
        stop_server(server)


def mistyped(certificate_id: str) -> str:
    """The id as someone might type it from paper: lower case, no dashes, O for 0, l for 1."""
    return certificate_id.lower().replace("-", " ", 1).replace("-", "").replace("0", "o")


def signed_in_page(browser: Any, history: History, role: Role) -> Any:
    return new_signed_in_page(browser, history.server, history.accounts[role])


def group(page: Any, title: str) -> Any:
    """The dashboard's section of tasks headed `title`."""
    return page.get_by_role("region", name=title)


def task_links(page: Any, title: str) -> dict[str, str]:
    """The section's task links: href -> text of the task."""
    found: dict[str, str] = {}
    for item in group(page, title).locator(".task-list li").all():
        link = item.locator("a")
        found[str(link.get_attribute("href"))] = item.inner_text()
    return found


def open_for(page: Any, base: str, hrefs: list[str]) -> None:
    """Each task's link opens its page for the signed-in role (the session's cookie sent)."""
    for href in hrefs:
        answer = page.context.request.get(f"{base}{href}", max_redirects=0)
        assert answer.status == 200, (href, answer.status)


def test_the_front_door_forgives_typing_errors_and_lands_on_the_verification_page(
    history: History,
) -> None:
    base = history.server.base
    with chromium() as browser:
        page = browser.new_page()
        response = page.goto(f"{base}/")
        assert response is not None
        assert response.status == 200
        assert page.get_by_role("link", name="See the public register").get_attribute("href") == (
            "/register"
        )
        assert page.get_by_role("link", name="Sign in to the staff console").get_attribute(
            "href"
        ) == ("/console/sign-in")
        page.get_by_label("Certificate id").fill(mistyped(history.licence))
        page.get_by_role("button", name="Check").click()
        page.wait_for_url(f"{base}/verify/{history.licence}")
        assert history.licence in page.inner_text("dl")

        page.goto(f"{base}/")
        page.get_by_label("Certificate id").fill("LT-1234")
        page.get_by_role("button", name="Check").click()
        summary = page.locator(".error-summary")
        assert "There is a problem" in summary.inner_text()
        assert summary.evaluate("e => e === document.activeElement")
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "certificate_id"
        assert page.get_by_label("Certificate id").input_value() == "LT-1234"

    unknown = httpx.get(f"{base}/check", params={"certificate_id": "LT-7KQ2-M9XD-3FHW"})
    assert unknown.status_code == 422
    assert "There is no certificate LT-7KQ2-M9XD-3FHW in this ledger" in unknown.text


def test_the_front_door_check_works_with_the_keyboard_alone(history: History) -> None:
    base = history.server.base
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/")
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "certificate_id":
                break
        else:
            raise AssertionError("the certificate id box is not reached with Tab")
        page.keyboard.type(mistyped(history.qualification))
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/verify/{history.qualification}")
        assert "Valid" in page.get_by_role("status").inner_text()


def test_the_registrar_sees_the_weeks_whose_attendance_is_not_recorded(history: History) -> None:
    with chromium() as browser:
        page = signed_in_page(browser, history, Role.REGISTRAR)
        page.goto(f"{history.server.base}/console")
        assert page.locator("h1").inner_text() == "What needs doing"
        tasks = task_links(page, "Attendance to record")
        grid = f"/console/programmes/{history.programme}/attendance/{WEEKS}"
        assert list(tasks) == [grid]
        assert "attendance not recorded for 1 of 3 participants" in tasks[grid]
        reminders = task_links(page, "Programmes without participants")
        upload = f"/console/programmes/{history.upcoming}/import"
        assert list(reminders) == [upload]
        assert "has no participants yet" in reminders[upload]
        open_for(page, history.server.base, [*tasks, *reminders])
        assert group(page, "The ledger's health").count() == 1
        assert serious_violations(page) == []


def test_the_tutor_sees_their_projects_waiting_for_sign_off(history: History) -> None:
    with chromium() as browser:
        page = signed_in_page(browser, history, Role.TUTOR)
        page.goto(f"{history.server.base}/console")
        tasks = task_links(page, "Field projects waiting for your sign-off")
        assert list(tasks) == [f"/console/projects/{history.waiting_project}"]
        assert "Green Logistics" in tasks[f"/console/projects/{history.waiting_project}"]
        assert group(page, "Attendance to record").count() == 0  # the registrar's, not theirs
        open_for(page, history.server.base, list(tasks))
        assert serious_violations(page) == []


def test_the_committee_sees_candidates_licences_suspensions_and_appeals(history: History) -> None:
    with chromium() as browser:
        page = signed_in_page(browser, history, Role.COMMITTEE)
        page.goto(f"{history.server.base}/console")
        candidates = task_links(page, "Candidates eligible for award")
        roster = f"/console/programmes/{history.programme}/roster"
        assert list(candidates) == [roster]
        assert "1 candidate eligible" in candidates[roster]
        assert history.eligible.name in candidates[roster]
        assert history.awarded.name not in candidates[roster]
        assert history.waiting.name not in candidates[roster]
        certificate = f"/console/certificates/{history.licence}"
        renewals = task_links(page, "Licences to renew")
        assert list(renewals) == [certificate]
        assert "renewal window open" in renewals[certificate]
        suspensions = task_links(page, "Suspensions ending within 30 days")
        assert list(suspensions) == [certificate]
        appeals = task_links(page, "Appeals to decide")
        assert list(appeals) == [f"/console/appeals/{history.appeal}"]
        open_for(page, history.server.base, [*candidates, *renewals, *appeals])
        assert serious_violations(page) == []


def test_the_auditor_sees_the_logs_health(history: History) -> None:
    with chromium() as browser:
        page = signed_in_page(browser, history, Role.AUDITOR)
        page.goto(f"{history.server.base}/console")
        health = group(page, "The ledger's health")
        text = health.inner_text()
        assert "Newest signed checkpoint" in text
        assert "Witness cosignatures" in text
        assert health.get_by_role("table", name="Read models").count() == 1
        assert page.locator(".task-group").count() == 0
        assert serious_violations(page) == []


def test_the_reports_page_counts_and_its_csv_downloads_need_the_session(
    history: History,
) -> None:
    base = history.server.base
    with chromium() as browser:
        page = signed_in_page(browser, history, Role.REGISTRAR)
        page.goto(f"{base}/console/reports")
        # Ana's qualification is valid; her licence is suspended, so not counted as valid.
        assert page.locator(".lead").inner_text().endswith(": 1 Associate Trainer from 1 region.")
        by_kind = page.get_by_role("table", name="Valid certificates by kind", exact=False)
        assert by_kind.count() == 1
        assert serious_violations(page) == []
        page.get_by_label("Counts on the date").fill("2013-07-01")
        page.get_by_role("button", name="Show the counts").click()
        page.wait_for_url("**as_of=2013-07-01")
        assert "No valid certificates" in page.locator(".lead").inner_text()
        page.goto(f"{base}/console/reports")
        download = page.context.request.get(f"{base}/console/reports/counts.csv?by=kind")
        assert download.status == 200
        assert download.headers["content-type"].startswith("text/csv")
        lines = download.text().splitlines()
        assert lines[0] == "kind,associate_trainer,licence,instructor,total"
        register = page.context.request.get(f"{base}/console/reports/certificates.csv")
        assert history.awarded.name in register.text()
    anonymous = httpx.get(f"{base}/console/reports/counts.csv", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/console/sign-in")


def test_no_serious_accessibility_violation_on_the_front_door_and_verification(
    history: History,
) -> None:
    base = history.server.base
    with chromium() as browser:
        page = browser.new_page()
        for path in ("/", f"/verify/{history.licence}", "/check?certificate_id=nonsense"):
            page.goto(f"{base}{path}")
            assert serious_violations(page) == [], path
        for role in (Role.ADMIN, Role.AUDITOR):
            staff = signed_in_page(browser, history, role)
            for path in ("/console", "/console/reports"):
                staff.goto(f"{base}{path}")
                assert serious_violations(staff) == [], (role, path)
