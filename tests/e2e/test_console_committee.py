"""The certification committee's pages in real Chromium against the real server process: the
roster says in words why a participant may not be awarded yet; the award shows its rule checks
before it is confirmed, and is not offered to a member who tutored the project (a forced POST
is refused naming R10); a licence is granted, suspended, reinstated and revoked through the
pages, each result visible on /verify; an appeal is lodged by the registrar and decided by a
panel member who did not take the decision (R11). axe-core finds no serious or critical
violation on any of these pages, and the award and a licence form work by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.console_support import (
    chromium,
    keep_violations,
    new_signed_in_page,
    row_of,
    staff_account,
    tab_to,
)
from tests.e2e.registrar_support import (
    WEEKS,
    Foundation,
    Person,
    post,
    today,
    verify,
    verify_page,
)

TITLE = "Programme of the committee's console"


@dataclass
class Committee:
    """A programme with participants in every state, and the staff who act on it."""

    server: Server
    staff: Foundation
    programme: str
    eligible: Person  # every rule met, tutored by Tilda
    absent: Person  # 4 of 6 weeks attended
    unsigned: Person  # field project not yet signed off
    tutored: Person  # every rule met, tutored by Bianca, a committee member too
    qualified: Person  # awarded already (through the API), with a course since
    qualification: str
    held_licence: str  # granted over a year ago, a full programme delivered since (R9)
    accounts: dict[str, tuple[str, str]]
    axe: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def build(server: Server) -> Committee:
    staff = Foundation.on(server)
    post(
        staff.registrar,
        "/v1/materials",
        {"version": "ECEI-2012", "title": "2012 edition", "on": "2012-11-01"},
    )
    programme = staff.open_programme(TITLE)
    tilda = staff.tutor("Tilda Tutorial", "tilda.tutorial@faculty.example.org")
    bianca = staff.tutor("Bianca Bench", "bianca.bench@faculty.example.org")

    def participant(
        name: str, tutor: Person, initiative: str, weeks: int = WEEKS, sign: bool = True
    ) -> Person:
        email = name.lower().replace(" ", ".") + "@agency.example.org"
        person = staff.register(name, email, f"Agency of {name.split()[-1]}")
        staff.enrol(programme, person.person_id)
        for week in range(1, WEEKS + 1):
            staff.attendance(programme, week, {person.person_id: week <= weeks})
        project = staff.project(programme, initiative, tutor.person_id, [person.person_id])
        if sign:
            staff.sign_off(project, tutor.person_id)
        return person

    eligible = participant("Elena Eligible", tilda, "Marine Energy")
    absent = participant("Bruno Absent", tilda, "Wicker Craft", weeks=4)
    unsigned = participant("Carla Unsigned", tilda, "Gourmet Food", sign=False)
    tutored = participant("Dora Tutored", bianca, "Nature Tourism")
    qualified = staff.register("Quentin Qualified", "quentin@agency.example.org", "Agency East")
    qualification = staff.qualified(programme, qualified, tilda, "Wedding Textile")
    post(
        staff.registrar,
        f"/v1/people/{qualified.person_id}/courses",
        {"delivered_on": "2014-03-01", "region": "Cantabria", "participants": 12},
    )

    # A licence held for more than a year, with a full programme delivered: R9 is met.
    ilse = staff.register("Ilse Instructor", "ilse@agency.example.org", "Agency South")
    ilse_qualification = staff.qualified(programme, ilse, tilda, "Technical Textile")
    granted = today() - timedelta(days=400)
    for delivered, full in ((granted - timedelta(days=30), False), (granted, True)):
        post(
            staff.registrar,
            f"/v1/people/{ilse.person_id}/courses",
            {
                "delivered_on": str(delivered),
                "region": "Galicia",
                "participants": 15,
                "full_programme": full,
            },
        )
    held_licence: str = post(
        staff.committee,
        "/v1/licences",
        {
            "qualification_id": ilse_qualification,
            "regions": ["Galicia"],
            "languages": ["Galician", "Spanish"],
            "material_version": "ECEI-2012",
            "on": str(granted),
        },
    )["id"]

    hugo = staff.register("Hugo Panel", "hugo.panel@board.example.org", "Foundation Board")
    ines = staff.register("Ines Panel", "ines.panel@board.example.org", "Foundation Board")
    accounts = {
        "hugo": staff_account(server, "hugo-committee", Role.COMMITTEE, hugo.person_id),
        "ines": staff_account(server, "ines-committee", Role.COMMITTEE, ines.person_id),
        "bianca": staff_account(server, "bianca-committee", Role.COMMITTEE, bianca.person_id),
        "rita": staff_account(server, "rita-registrar", Role.REGISTRAR),
        "tilda": staff_account(server, "tilda-tutor", Role.TUTOR, tilda.person_id),
    }
    return Committee(
        server,
        staff,
        programme,
        eligible,
        absent,
        unsigned,
        tutored,
        qualified,
        qualification,
        held_licence,
        accounts,
    )


@pytest.fixture(scope="module")
def committee(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Committee]:
    settings = make_settings("sqlite", tmp_path_factory.mktemp("committee"), request)
    server = start_server(settings)
    try:
        yield build(server)
    finally:
        stop_server(server)


def signed_in(browser: Any, history: Committee, who: str) -> Any:
    return new_signed_in_page(browser, history.server, history.accounts[who])


def checked(page: Any, history: Committee, name: str) -> None:
    keep_violations(page, history.axe, name)


def test_the_roster_says_in_words_why_participants_may_not_be_awarded(
    committee: Committee,
) -> None:
    base = committee.server.base
    with chromium() as browser:
        page = signed_in(browser, committee, "hugo")
        response = page.goto(f"{base}/console/programmes/{committee.programme}/roster")
        assert response is not None
        assert response.status == 200
        checked(page, committee, "roster")

        eligible = row_of(page, committee.eligible.name)
        assert "Nothing: eligible" in eligible.inner_text()
        assert eligible.get_by_role(
            "link", name=f"Award Associate Trainer to {committee.eligible.name}"
        ).is_visible()
        absent = row_of(page, committee.absent.name)
        assert "Attended 4 of 6 weeks, 5 required" in absent.inner_text()
        assert absent.get_by_role("link").filter(has_text="Award").count() == 0
        unsigned = row_of(page, committee.unsigned.name)
        assert "Project not yet signed off" in unsigned.inner_text()
        assert unsigned.get_by_role("link").filter(has_text="Award").count() == 0
        qualified = row_of(page, committee.qualified.name)
        assert committee.qualification in qualified.inner_text()


def test_the_committee_awards_by_keyboard_after_seeing_the_rule_checks(
    committee: Committee,
) -> None:
    base = committee.server.base
    roster = f"{base}/console/programmes/{committee.programme}/roster"
    with chromium() as browser:
        page = signed_in(browser, committee, "hugo")
        page.goto(roster)
        row_of(page, committee.eligible.name).get_by_role("link", name="Award").click()
        page.wait_for_url(f"{base}/console/programmes/*/award/{committee.eligible.person_id}")
        checked(page, committee, "award check")
        rules = page.locator("table").inner_text()
        for rule in ("R2", "R3", "R4", "R10"):
            assert rule in rules
        assert "Not met" not in rules
        assert page.get_by_label("Date of effect").input_value() == today().isoformat()

        tab_to(page, "main button[type=submit]")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Award"
        page.keyboard.press("Enter")
        page.wait_for_url(roster)
        notice = page.locator(".notice.success").inner_text()
        assert "Associate Trainer AT-" in notice
        assert committee.eligible.name in notice
        checked(page, committee, "roster after the award")
        awarded = row_of(page, committee.eligible.name).get_by_role("link", name="AT-")
        certificate = awarded.inner_text()
        assert verify(committee.server, certificate)["status"] == "valid"

        # Once awarded, the award is refused naming R4.
        page.goto(
            f"{base}/console/programmes/{committee.programme}/award/{committee.eligible.person_id}"
        )
        assert "Award" not in [b.inner_text() for b in page.locator("main button").all()]
        assert "R4" in page.locator(".notice.warning").inner_text()


def test_a_member_who_tutored_the_project_is_not_offered_the_award_and_a_forced_post_is_refused(
    committee: Committee,
) -> None:
    base = committee.server.base
    person = committee.tutored
    award = f"{base}/console/programmes/{committee.programme}/award/{person.person_id}"
    with chromium() as browser:
        page = signed_in(browser, committee, "bianca")
        page.goto(f"{base}/console/programmes/{committee.programme}/roster")
        row = row_of(page, person.name)
        assert row.get_by_role("link").filter(has_text="Award").count() == 0
        assert "R10: you tutored the field project" in row.inner_text()
        # Her impartiality concerns her own project only.
        assert row_of(page, committee.eligible.name).count() == 1

        page.goto(award)
        checked(page, committee, "award refused by R10")
        assert page.locator("main form").count() == 0
        refusal = page.locator(".notice.warning").inner_text()
        assert "R10: you tutored the field project of the person concerned" in refusal
        assert "Not met" in page.locator("table").inner_text()

        token = page.locator("input[name=csrf_token]").first.input_value()
        with page.expect_navigation() as navigation:
            page.evaluate(
                """([action, token, day]) => {
                    const form = document.createElement("form");
                    form.method = "post";
                    form.action = action;
                    for (const [name, value] of [["csrf_token", token], ["on", day]]) {
                        const input = document.createElement("input");
                        input.type = "hidden";
                        input.name = name;
                        input.value = value;
                        form.appendChild(input);
                    }
                    document.body.appendChild(form);
                    form.submit();
                }""",
                [award, token, today().isoformat()],
            )
        assert navigation.value.status == 409
        assert "R10: you tutored the field project" in page.locator(".error-summary").inner_text()

    row = committee.staff.roster_row(committee.programme, person.person_id)
    assert row["awarded"] is None


def test_a_tutor_cannot_open_the_committee_pages(committee: Committee) -> None:
    base = committee.server.base
    with chromium() as browser:
        page = signed_in(browser, committee, "tilda")
        for path in (
            f"/console/programmes/{committee.programme}/roster",
            "/console/licences",
            f"/console/certificates/{committee.qualification}",
            "/console/appeals",
        ):
            response = page.goto(base + path)
            assert response is not None
            assert response.status == 403, path


def test_a_licence_is_granted_suspended_reinstated_and_revoked_through_the_pages(
    committee: Committee,
) -> None:
    base = committee.server.base
    server = committee.server
    with chromium() as browser:
        page = signed_in(browser, committee, "hugo")
        page.goto(f"{base}/console/licences?kind=associate_trainer")
        checked(page, committee, "certificate list")
        page.get_by_role("link", name=committee.qualification).click()
        page.wait_for_url(f"{base}/console/certificates/{committee.qualification}")
        checked(page, committee, "qualification page")
        assert page.get_by_role("link", name=f"/verify/{committee.qualification}").is_visible()

        # Grant, by keyboard alone: the form, then the check of the answers.
        page.get_by_role("link", name="Grant a licence").click()
        checked(page, committee, "grant form")
        page.locator("h1").focus()
        tab_to(page, "#regions")
        page.keyboard.press("Control+A")
        page.keyboard.type("Cantabria, Asturias")
        page.keyboard.press("Tab")
        page.keyboard.type("Spanish, English")
        tab_to(page, "#material_version")
        tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/grant-licence/check")
        checked(page, committee, "grant check")
        answers = page.locator("dl").inner_text()
        assert "Cantabria, Asturias" in answers
        assert "Spanish, English" in answers
        assert "ECEI-2012" in answers
        tab_to(page, "main button[type=submit]")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Grant the licence"
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/console/certificates/LT-*")
        assert "granted" in page.locator(".notice.success").inner_text()
        licence = page.url.rsplit("/", 1)[1]
        checked(page, committee, "licence page")
        assert verify(server, licence)["status"] == "valid"

        # Suspend: a reason and an end date (R7), checked before it is recorded.
        page.get_by_role("link", name="Suspend the licence").click()
        checked(page, committee, "suspend form")
        page.get_by_role("button", name="Continue").click()
        assert "R7: enter the reason" in page.locator(".error-summary").inner_text()
        checked(page, committee, "suspend form with errors")
        page.get_by_label("Reason").fill("complaint from a cluster under review")
        page.get_by_label("Suspended until").fill(str(today() + timedelta(days=30)))
        page.get_by_role("button", name="Continue").click()
        checked(page, committee, "suspend check")
        assert "complaint from a cluster under review" in page.locator("dl").inner_text()
        page.get_by_role("button", name="Suspend licence").click()
        page.wait_for_url(f"{base}/console/certificates/{licence}")
        assert "suspended" in page.locator(".notice.success").inner_text()
        answer = verify(server, licence)
        assert (answer["status"], answer["reason"]) == (
            "suspended",
            "complaint from a cluster under review",
        )
        assert "Suspended" in verify_page(server, licence)
        # A suspended licence cannot be suspended again: not offered, the reason in words.
        assert "Suspend the licence: not offered." in page.locator("main").inner_text()

        page.get_by_role("link", name="Reinstate the licence").click()
        checked(page, committee, "reinstate check")
        page.get_by_role("button", name="Reinstate licence").click()
        page.wait_for_url(f"{base}/console/certificates/{licence}")
        assert verify(server, licence)["status"] == "valid"

        page.get_by_role("link", name="Reduce the scope").click()
        checked(page, committee, "reduce scope form")
        page.get_by_label("Asturias").uncheck()
        page.get_by_label("Reason").fill("no cluster partner in Asturias any more")
        page.get_by_role("button", name="Continue").click()
        checked(page, committee, "reduce scope check")
        page.get_by_role("button", name="Reduce scope").click()
        page.wait_for_url(f"{base}/console/certificates/{licence}")
        assert verify(server, licence)["scope"]["regions"] == ["Cantabria"]

        page.get_by_role("link", name="Revoke the licence").click()
        checked(page, committee, "revoke form")
        assert "Revocation is final" in page.locator(".notice.warning").inner_text()
        page.get_by_label("Reason").fill("courses run without the Foundation's material")
        page.get_by_role("button", name="Continue").click()
        checked(page, committee, "revoke check")
        page.get_by_role("button", name="Revoke licence").click()
        page.wait_for_url(f"{base}/console/certificates/{licence}")
        answer = verify(server, licence)
        assert (answer["status"], answer["reason"]) == (
            "revoked",
            "courses run without the Foundation's material",
        )
        assert "Revoked" in verify_page(server, licence)
        text = page.locator("main").inner_text()
        assert "Renew the licence: not offered." in text
        assert "Reinstate the licence: not offered. R8" in text
        checked(page, committee, "revoked licence page")

        # The revocation is appealed by the registrar (R11: within 30 days) ...
        registrar = signed_in(browser, committee, "rita")
        registrar.goto(f"{base}/console/certificates/{licence}")
        assert (
            "taken by the certification committee (R10)" in registrar.locator("main").inner_text()
        )
        registrar.get_by_role("link", name="Lodge an appeal against a decision").click()
        checked(registrar, committee, "lodge form")
        registrar.get_by_label("Licence revoked on").check()
        registrar.get_by_label("Grounds of the appeal").fill(
            "the material used was the Foundation's"
        )
        registrar.get_by_role("button", name="Continue").click()
        checked(registrar, committee, "lodge check")
        registrar.get_by_role("button", name="Lodge appeal").click()
        registrar.wait_for_url(f"{base}/console/appeals/*")
        appeal = registrar.url.rsplit("/", 1)[1]
        assert "Appeal lodged" in registrar.locator(".notice.success").inner_text()
        registrar.goto(f"{base}/console/appeals")
        checked(registrar, committee, "appeal list")
        assert licence in registrar.get_by_role("table").first.inner_text()

        # ... and not offered to the member who took the decision appealed (R11) ...
        page.goto(f"{base}/console/appeals/{appeal}")
        checked(page, committee, "appeal page, not offered")
        assert page.locator("main form").count() == 0
        assert (
            "R11: the panel member took the decision under appeal"
            in page.locator(".notice.warning").inner_text()
        )

        # ... but decided by another member of the panel.
        panel = signed_in(browser, committee, "ines")
        panel.goto(f"{base}/console/appeals/{appeal}")
        checked(panel, committee, "appeal page")
        panel.get_by_role("button", name="Continue").click()
        assert (
            "Choose whether the appeal is upheld or rejected"
            in panel.locator(".error-summary").inner_text()
        )
        checked(panel, committee, "appeal page with errors")
        panel.get_by_label("Rejected").check()
        panel.get_by_label("The panel's reasoning").fill("the courses used a copied edition")
        panel.get_by_role("button", name="Continue").click()
        checked(panel, committee, "appeal decision check")
        panel.get_by_role("button", name="Record decision").click()
        panel.wait_for_url(f"{base}/console/appeals/{appeal}")
        assert "Appeal rejected" in panel.locator(".notice.success").inner_text()
        details = panel.locator("dl").inner_text()
        assert "the courses used a copied edition" in details
        assert "Ines Panel" in details
        panel.goto(f"{base}/console/appeals")
        decided = panel.get_by_role("table").last.inner_text()
        assert "Rejected, by Ines Panel" in decided
    assert verify(server, licence)["status"] == "revoked"


def test_an_instructor_is_certified_renewed_and_revoked_through_the_pages(
    committee: Committee,
) -> None:
    base = committee.server.base
    server = committee.server
    with chromium() as browser:
        page = signed_in(browser, committee, "hugo")
        page.goto(f"{base}/console/certificates/{committee.held_licence}")
        page.get_by_role("link", name="Certify as instructor").click()
        checked(page, committee, "certify check")
        assert "Valid until" in page.locator("dl").inner_text()
        page.get_by_role("button", name="Certify instructor").click()
        page.wait_for_url(f"{base}/console/certificates/IC-*")
        instructor = page.url.rsplit("/", 1)[1]
        assert "Instructor Certification" in page.locator(".notice.success").inner_text()
        checked(page, committee, "instructor page")
        assert verify(server, instructor)["status"] == "valid"

        page.get_by_role("link", name="Renew the Instructor Certification").click()
        checked(page, committee, "renew instructor check")
        page.get_by_role("button", name="Renew certification").click()
        page.wait_for_url(f"{base}/console/certificates/{instructor}")
        assert "renewed" in page.locator(".notice.success").inner_text()

        page.get_by_role("link", name="Revoke the Instructor Certification").click()
        checked(page, committee, "revoke instructor form")
        page.get_by_label("Reason").fill("delivered courses without the licence's scope")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Revoke certification").click()
        page.wait_for_url(f"{base}/console/certificates/{instructor}")
        answer = verify(server, instructor)
        assert (answer["status"], answer["reason"]) == (
            "revoked",
            "delivered courses without the licence's scope",
        )
        text = page.locator("main").inner_text()
        assert "Revoke the Instructor Certification: not offered. R8" in text


def test_no_page_of_the_committee_has_a_serious_accessibility_violation(
    committee: Committee,
) -> None:
    """Runs last: the pages visited by the tests above, each checked by axe-core."""
    base = committee.server.base
    with chromium() as browser:
        page = signed_in(browser, committee, "rita")
        page.goto(f"{base}/console/appeals/new")
        checked(page, committee, "lodge: which certificate")
        page.goto(f"{base}/console/programmes/{committee.programme}/roster?as_of=2013-05-01")
        checked(page, committee, "roster on a past date")
    assert len(committee.axe) == 0, committee.axe
