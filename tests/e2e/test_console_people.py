"""The people pages of the staff console in real Chromium against the real server process:
search as you type (and the plain form without JavaScript), registering a possible duplicate,
a person's path in words with its corrections and their reasons, the proof of a record,
a retraction that a licence counted refused with the rule named, erasure offered to
administrators only, the keyboard alone, and axe-core on every page. On SQLite: the
PostgreSQL path is the same service code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.console_support import chromium, serious_violations, sign_in, staff_account
from tests.e2e.registrar_support import Foundation, Person, log_size, post, today

TITLE = "Train the trainers 2012-2013"
CORRECTION_REASON = "signed the register of week 3; entered as absent by mistake"
RETRACTION_REASON = "recorded for the wrong trainer"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@contextmanager
def signed_in(
    server: Server,
    role: Role,
    person_id: str | None = None,
    *,
    javascript: bool = True,
) -> Iterator[Any]:
    """A page of a fresh browser, signed in to the console in `role`."""
    username, password = staff_account(server, f"{role}-{time.monotonic_ns()}", role, person_id)
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=javascript)
        try:
            page = context.new_page()
            sign_in(page, server, username, password)
            yield page
        finally:
            context.close()


def tab_to(page: Any, test: str, limit: int = 80) -> None:
    """Press Tab until the focused element passes `test` (a JavaScript function of it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"({test})(document.activeElement)"):
            return
    raise AssertionError(f"no element passing {test} within {limit} presses of Tab")


def by_id(element_id: str) -> str:
    return f"e => e && e.id === {element_id!r}"


def timeline_entry(page: Any, text: str) -> Any:
    return page.locator("ol.timeline > li").filter(has_text=text)


def qualified_holder(staff: Foundation) -> tuple[str, Person, str]:
    """A holder of an Associate Trainer certificate, week 3 first entered as missed:
    (programme, holder, certificate)."""
    programme = staff.open_programme(TITLE)
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    holder = staff.register("Maria Ejemplo", "maria.ejemplo@agency.example.org", "Agency")
    certificate = staff.qualified(programme, holder, tutor, "Gourmet Food", frozenset({3}))
    return programme, holder, certificate


def course(staff: Foundation, person: str, delivered_on: str, participants: int) -> str:
    delivery: str = post(
        staff.registrar,
        f"/v1/people/{person}/courses",
        {"delivered_on": delivered_on, "region": "Cantabria", "participants": participants},
    )["id"]
    return delivery


def grant_licence(staff: Foundation, qualification: str) -> str:
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
            "on": "2014-05-01",
        },
    )["id"]
    return licence


def test_typing_a_name_without_its_accents_finds_the_person_as_you_type_by_keyboard_alone(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    jana = staff.register("Jana Hrušovská", "jana.h@agency.example.org", "Agencia Norte")
    staff.register("Pavel Novák", "pavel.novak@agency.example.org", "Agencia Sur")
    with signed_in(server, Role.REGISTRAR) as page:
        page.goto(f"{server.base}/console/people")
        page.evaluate("window.samePage = true")
        tab_to(page, by_id("q"))
        page.keyboard.type("hrusovska")
        status = page.locator("#results-status")
        status.filter(has_text="1 person found").wait_for()  # the results swapped in
        results = page.locator("#results")
        assert results.get_by_role("link", name="Jana Hrušovská").count() == 1
        assert "Pavel Novák" not in results.inner_text()
        assert status.get_attribute("aria-live") == "polite"
        assert page.evaluate("window.samePage") is True  # swapped in, not a new page
        assert page.url.endswith("/console/people?q=hrusovska")

        tab_to(page, "e => e && e.tagName === 'A' && e.textContent.includes('Hrušovská')")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.base}/console/people/{jana.person_id}")
        assert page.locator("h1").inner_text() == "Jana Hrušovská"


def test_the_search_form_finds_people_without_javascript(server: Server) -> None:
    staff = Foundation.on(server)
    staff.register("Jana Hrušovská", "jana.h@agency.example.org", "Agencia Norte")
    with signed_in(
        server,
        Role.TUTOR,
        staff.tutor("Tomas Tutor", "t@f.example.org").person_id,
        javascript=False,
    ) as page:
        page.goto(f"{server.base}/console/people")
        page.get_by_label("Find a person").fill("HRUSOVSKA")
        page.keyboard.press("Enter")
        page.wait_for_url("**/console/people?q=HRUSOVSKA")
        assert page.locator("#results-status").inner_text() == "1 person found"
        assert page.locator("#results").get_by_role("link", name="Jana Hrušovská").count() == 1


def test_registering_a_possible_duplicate_lists_the_matches_and_register_anyway_registers(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    olga = staff.register("Olga Nováková", "olga.novakova@agency.example.org", "Agency")
    with signed_in(server, Role.REGISTRAR) as page:
        page.goto(f"{server.base}/console/people/new")
        tab_to(page, by_id("name"))
        answers = ("Olga Novakova", "OLGA.NOVAKOVA@agency.example.org", "Agency", "Cantabria")
        for answer in answers:
            page.keyboard.type(answer)
            page.keyboard.press("Tab")
        page.keyboard.type("Spain")
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.keyboard.press("Enter")
        assert posted.value.status == 409
        assert page.locator("h1").inner_text() == "This person may already be registered"
        matches = page.get_by_role("table", name="Possible matches")
        assert matches.get_by_role("link", name="Olga Nováková").get_attribute("href") == (
            f"/console/people/{olga.person_id}"
        )
        assert "olga.novakova@agency.example.org" in matches.inner_text()
        assert page.get_by_role("link", name="Cancel").get_attribute("href") == "/console/people"

        tab_to(page, "e => e && e.textContent.trim() === 'Register anyway'")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: not url.endswith("/console/people/new"))
        assert "/console/people/" in page.url
        assert olga.person_id not in page.url
        assert page.get_by_role("status").filter(has_text="Person registered.").count() == 1
        assert page.locator("h1").inner_text() == "Olga Novakova"
        assert "OLGA.NOVAKOVA@agency.example.org" in page.locator("dl").first.inner_text()


def test_the_path_shows_an_attendance_correction_and_a_retraction_with_their_reasons_and_proof(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    programme, holder, certificate = qualified_holder(staff)
    post(
        staff.registrar,
        f"/v1/programmes/{programme}/enrolments/{holder.person_id}/attendance/3/correction",
        {"attended": True, "reason": CORRECTION_REASON},
    )
    delivered = today() - timedelta(days=30)
    course(staff, holder.person_id, str(delivered), 9)
    with signed_in(server, Role.REGISTRAR) as page:
        page.goto(f"{server.base}/console/people/{holder.person_id}")
        assert "Course delivered in Cantabria (9 participants)" in page.inner_text("ol.timeline")
        page.get_by_role("link", name="Retract the course of").click()
        page.get_by_label("Why is the course retracted?").fill(RETRACTION_REASON)
        page.get_by_role("button", name="Retract the course").click()
        page.wait_for_url(f"{server.base}/console/people/{holder.person_id}")
        assert page.get_by_role("status").filter(has_text="Course retracted.").count() == 1

        log_size(server)  # every record sequenced into the log
        page.reload()
        absent = timeline_entry(page, "Absent from week 3")
        assert absent.count() == 1
        corrected = timeline_entry(page, "Attendance of week 3 corrected to attended")
        assert corrected.count() == 1
        assert f"Reason: {CORRECTION_REASON}" in corrected.inner_text()
        assert "Correction" in corrected.locator(".when").inner_text()
        day = f"{delivered.day} {delivered.strftime('%B')} {delivered.year}"
        retracted = timeline_entry(page, f"Course of {day} in Cantabria retracted")
        assert retracted.count() == 1
        assert f"Reason: {RETRACTION_REASON}" in retracted.inner_text()
        assert "Correction" in retracted.inner_text()
        assert timeline_entry(page, f"certificate {certificate} issued").count() == 1
        assert "No courses recorded." in page.inner_text("main")

        retracted.get_by_role("link", name="Log position").click()
        for _ in range(40):  # a checkpoint is signed within moments of the record
            if page.get_by_text("Verified.").count():
                break
            time.sleep(0.25)
            page.reload()
        assert page.get_by_text("Verified.").count() == 1
        assert "person.course_retracted" in page.inner_text("main")
        results = page.locator("table td strong.tag").all_inner_texts()
        assert results == ["Passed"] * 4


def test_a_retraction_that_a_licence_counted_is_refused_with_the_rule_named(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    _, holder, qualification = qualified_holder(staff)
    counted = course(staff, holder.person_id, "2014-03-02", 12)
    retraction = f"{server.base}/console/people/{holder.person_id}/courses/{counted}/retraction"
    with signed_in(server, Role.REGISTRAR) as page:
        page.goto(retraction)
        page.get_by_label("Why is the course retracted?").fill("not delivered after all")
        licence = grant_licence(staff, qualification)  # meanwhile, a licence counts it
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Retract the course").click()
        assert posted.value.status == 409
        summary = page.locator(".error-summary").inner_text()
        assert "R5: course of 2014-03-02 counted toward licence" in summary
        assert licence in summary
        assert "2014-05-01" in summary
        assert page.get_by_role("button", name="Retract the course").count() == 0

        page.goto(f"{server.base}/console/people/{holder.person_id}")
        assert page.get_by_role("link", name="Retract the course of").count() == 0
        assert "Cannot be retracted: R5" in page.locator("table").nth(1).inner_text()
        page.goto(retraction)
        assert licence in page.locator(".error-summary").inner_text()


def test_erasure_is_offered_to_administrators_only(server: Server) -> None:
    staff = Foundation.on(server)
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    holder = staff.register("Maria Ejemplo", "maria.ejemplo@agency.example.org", "Agency")
    person = f"{server.base}/console/people/{holder.person_id}"
    with signed_in(server, Role.TUTOR, tutor.person_id) as page:
        page.goto(person)
        assert page.locator("h1").inner_text() == "Maria Ejemplo"
        assert page.get_by_role("link", name="Erase personal data").count() == 0
        assert page.get_by_role("link", name="Record a course delivered").count() == 0
        response = page.goto(f"{person}/erasure")
        assert response is not None
        assert response.status == 403
    with signed_in(server, Role.ADMIN) as page:
        page.goto(person)
        page.get_by_role("link", name="Erase personal data").click()
        page.get_by_label("The person asked for it").check()
        page.get_by_role("button", name="Continue").click()
        assert "This cannot be undone." in page.inner_text("main")
        page.get_by_role("button", name="Erase personal data").click()
        page.wait_for_url(person)
        assert page.locator("h1").inner_text() == "[erased]"
        assert timeline_entry(page, "Personal data erased (the person asked for it)").count()


def test_every_people_page_has_no_serious_accessibility_violation(server: Server) -> None:
    staff = Foundation.on(server)
    _, holder, _ = qualified_holder(staff)
    delivery = course(staff, holder.person_id, "2014-03-02", 12)
    other = staff.register(
        "Maria Ejemplo", "m.ejemplo@mail.example.org", "Agency Two", confirm_duplicate=True
    )
    person = f"{server.base}/console/people/{holder.person_id}"
    found: dict[str, list[dict[str, Any]]] = {}

    def check(page: Any, name: str) -> None:
        page.wait_for_load_state("load")  # the page a form led to, styles and all
        found[name] = serious_violations(page)

    with signed_in(server, Role.ADMIN) as page:
        page.goto(f"{server.base}/console/people?q=ejemplo")
        check(page, "search")
        page.goto(f"{server.base}/console/people/new")
        page.get_by_role("button", name="Register").click()
        assert page.locator(".error-summary").count() == 1
        check(page, "register, with errors")
        for label, answer in (
            ("Full name", "Maria Ejemplo"),
            ("Email address", "maria.ejemplo@agency.example.org"),
            ("Organisation", "Agency"),
            ("Region", "Cantabria"),
            ("Country", "Spain"),
        ):
            page.get_by_label(label).fill(answer)
        page.get_by_role("button", name="Register").click()
        check(page, "possible duplicates")
        log_size(server)
        page.goto(person)
        check(page, "person")
        page.goto(f"{person}/courses/new")
        page.get_by_role("button", name="Record the course").click()
        check(page, "record a course, with errors")
        page.goto(f"{person}/courses/{delivery}/retraction")
        check(page, "retraction")
        page.goto(f"{server.base}/console/people/{other.person_id}/duplicate?q=ejemplo")
        check(page, "duplicate: find")
        page.get_by_role("button", name="Continue").click()
        check(page, "duplicate: with errors")
        page.get_by_label("Maria Ejemplo, maria.ejemplo@agency.example.org").check()
        page.get_by_label("Why are these the same person?").fill("registered twice")
        page.get_by_role("button", name="Continue").click()
        check(page, "duplicate: check your answers")
        page.goto(f"{person}/name")
        check(page, "name on public pages")
        page.goto(f"{person}/listing")
        check(page, "public register")
        page.goto(f"{person}/erasure")
        page.get_by_role("button", name="Continue").click()
        check(page, "erasure, with errors")
        page.get_by_label("The retention period ended").check()
        page.get_by_role("button", name="Continue").click()
        check(page, "erasure: check your answers")
        page.goto(f"{server.base}/console/records/0")
        check(page, "record and proof")
    assert {name: v for name, v in found.items() if v} == {}
