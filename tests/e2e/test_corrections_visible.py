"""Every correction is a new signed event that shows: in the person's history, in time travel
(the answer before the correction's date differs from the answer after it), and on the public
verification page where it touches a certificate's evidence, without its reason (personal free
text). What a later decision relied on cannot be corrected away: the refusal names the rule and
the decision. Over HTTP against the real server, on both backends."""

from __future__ import annotations

from datetime import timedelta

from ledger.i18n import long_day
from tests.e2e.conftest import Server
from tests.e2e.registrar_support import (
    Foundation,
    get,
    log_size,
    post,
    refused,
    today,
    verify,
    verify_page,
    week_start,
)

TITLE = "Train the trainers 2012-2013"


def test_an_attendance_correction_shows_in_history_time_travel_and_on_the_verification_page(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    programme = staff.open_programme(TITLE)
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    holder = staff.register("Maria Ejemplo", "maria.ejemplo@agency.example.org", "Agency")
    # Qualified on five weeks: week 3 was entered as missed, although she was there.
    certificate = staff.qualified(programme, holder, tutor, "Gourmet Food", frozenset({3}))
    between_weeks_3_and_4 = str(week_start(3) + timedelta(days=14))
    row = staff.roster_row(programme, holder.person_id, as_of=between_weeks_3_and_4)
    assert row["weeks_attended"] == 2

    reason = "signed the register of week 3; entered as absent by mistake"
    known_before = log_size(server)
    receipt = post(
        staff.registrar,
        f"/v1/programmes/{programme}/enrolments/{holder.person_id}/attendance/3/correction",
        {"attended": True, "reason": reason},
    )
    (position,) = receipt["positions"]

    assert "enrolment.attendance_corrected" in staff.history_types(holder.person_id)
    before_week_3 = str(week_start(3) - timedelta(days=1))
    assert staff.roster_row(programme, holder.person_id, as_of=before_week_3)["weeks_attended"] == 2
    row = staff.roster_row(programme, holder.person_id, as_of=between_weeks_3_and_4)
    assert row["weeks_attended"] == 3  # week 3 now reads as attended, from its own date on
    assert staff.roster_row(programme, holder.person_id)["weeks_attended"] == 6

    answer = verify(server, certificate)
    assert answer["status"] == "valid"
    corrections = [e for e in answer["evidence"] if e["kind"] == "correction"]
    assert corrections == [
        {
            "kind": "correction",
            "type": "enrolment.attendance_corrected",
            "week": 3,
            "on": str(week_start(3)),
            "position": position,
        }
    ]
    page = verify_page(server, certificate)
    assert f"Attendance of week 3 corrected on {long_day(week_start(3), 'en')}" in page
    assert f"(log position {position})" in page
    assert reason not in page
    assert reason not in str(answer)
    known = verify(server, certificate, known_at=known_before)
    assert [e for e in known["evidence"] if e["kind"] == "correction"] == []

    # Week 4 to absent leaves five weeks: the qualification still holds, and the evidence
    # behind it lists this correction too.
    second = post(
        staff.registrar,
        f"/v1/programmes/{programme}/enrolments/{holder.person_id}/attendance/4/correction",
        {"attended": False, "reason": "misread as well"},
    )
    listed = [e for e in verify(server, certificate)["evidence"] if e["kind"] == "correction"]
    assert [e["position"] for e in listed] == [position, *second["positions"]]
    # Week 5 as well would leave four: the qualification relied on it (R2, named).
    blocked = refused(
        staff.registrar.post(
            f"/v1/programmes/{programme}/enrolments/{holder.person_id}/attendance/5/correction",
            json={"attended": False, "reason": "misread again"},
        ),
        422,
    )
    assert blocked["rule"] == "R2"
    assert certificate in blocked["detail"]
    assert "2013-07-20" in blocked["detail"]
    assert "4 weeks would be attended, 5 required" in blocked["detail"]
    assert len(verify(server, certificate)["evidence"]) == len(answer["evidence"]) + 1


def test_a_course_retraction_shows_in_history_and_time_travel_unless_a_licence_counted_it(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    programme = staff.open_programme(TITLE)
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    holder = staff.register("Maria Ejemplo", "maria.ejemplo@agency.example.org", "Agency")
    qualification = staff.qualified(programme, holder, tutor, "Gourmet Food")
    day = today()
    mistaken = post(
        staff.registrar,
        f"/v1/people/{holder.person_id}/courses",
        {"delivered_on": str(day - timedelta(days=30)), "region": "Cantabria", "participants": 9},
    )["id"]
    status = f"/v1/trainers/{holder.person_id}/status"
    assert get(staff.registrar, status)["courses_delivered"] == 1
    known_before = log_size(server)
    post(
        staff.registrar,
        f"/v1/people/{holder.person_id}/courses/{mistaken}/retraction",
        {"reason": "recorded for the wrong trainer"},
    )
    assert "person.course_retracted" in staff.history_types(holder.person_id)
    assert get(staff.registrar, status)["courses_delivered"] == 0
    # A retraction takes effect on the day it is recorded: asked for the day before (as_of),
    # or at the log size before it (known_at), the course still reads as recorded.
    yesterday = str(day - timedelta(days=1))
    assert get(staff.registrar, status, as_of=yesterday)["courses_delivered"] == 1
    assert get(staff.registrar, status, as_of=str(day))["courses_delivered"] == 0
    assert get(staff.registrar, status, known_at=known_before)["courses_delivered"] == 1
    assert get(staff.registrar, status, known_at=log_size(server))["courses_delivered"] == 0

    # A course a licence counted cannot be retracted: R5, naming the licence and its date.
    counted = post(
        staff.registrar,
        f"/v1/people/{holder.person_id}/courses",
        {"delivered_on": "2014-03-02", "region": "Cantabria", "participants": 12},
    )["id"]
    post(
        staff.registrar,
        "/v1/materials",
        {"version": "ECEI-2014", "title": "2014 edition", "on": "2014-01-10"},
    )
    licence = post(
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
    blocked = refused(
        staff.registrar.post(
            f"/v1/people/{holder.person_id}/courses/{counted}/retraction",
            json={"reason": "not delivered after all"},
        ),
        422,
    )
    assert blocked["rule"] == "R5"
    assert licence in blocked["detail"]
    assert "2014-05-01" in blocked["detail"]
    assert get(staff.registrar, status)["courses_delivered"] == 1


def test_a_sign_off_withdrawal_shows_in_history_and_time_travel_unless_relied_on(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    programme = staff.open_programme(TITLE)
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    member = staff.register("Jonas Beispiel", "jonas.beispiel@agency.example.org", "Agency")
    staff.enrol(programme, member.person_id)
    for week in range(1, 7):
        staff.attendance(programme, week, {member.person_id: True})
    project = staff.project(programme, "Wicker", tutor.person_id, [member.person_id])
    staff.sign_off(project, tutor.person_id, on="2013-07-10")
    assert staff.roster_row(programme, member.person_id)["eligible"]

    post(
        staff.tutors[tutor.person_id],
        f"/v1/projects/{project}/sign-off/withdrawal",
        {"reason": "signed off the wrong project"},
    )
    assert "project.sign_off_withdrawn" in staff.history_types(member.person_id)
    now = staff.roster_row(programme, member.person_id)
    assert not now["eligible"]
    assert any("not yet signed off" in sentence for sentence in now["missing"]), now
    yesterday = str(today() - timedelta(days=1))
    then = staff.roster_row(programme, member.person_id, as_of=yesterday)
    assert then["eligible"]
    assert then["missing"] == []
    assert not staff.roster_row(programme, member.person_id, as_of=str(today()))["eligible"]

    # Signed off again and relied on by a qualification: the withdrawal is refused, named.
    staff.sign_off(project, tutor.person_id, on=str(today()))
    certificate = staff.award(programme, member.person_id, on=str(today()))
    blocked = refused(
        staff.registrar.post(
            f"/v1/projects/{project}/sign-off/withdrawal",
            json={"reason": "changed my mind"},
        ),
        422,
    )
    assert blocked["rule"] == "R3"
    assert certificate in blocked["detail"]
    assert str(today()) in blocked["detail"]


def test_a_duplicate_marking_shows_in_both_histories_and_in_time_travel(server: Server) -> None:
    staff = Foundation.on(server)
    kept = staff.register("Olga Novak", "olga.novak@agency.example.org", "Agency")
    duplicate = staff.register(
        "Olga Nováková", "o.novakova@mail.example.org", "Agency", confirm_duplicate=True
    )
    post(
        staff.registrar,
        f"/v1/people/{duplicate.person_id}/courses",
        {"delivered_on": "2014-03-02", "region": "Cantabria", "participants": 12},
    )
    status = f"/v1/trainers/{kept.person_id}/status"
    assert get(staff.registrar, status)["courses_delivered"] == 0
    known_before = log_size(server)
    post(
        staff.registrar,
        f"/v1/people/{duplicate.person_id}/duplicate-of",
        {"person_id": kept.person_id, "reason": "registered twice"},
    )
    kept_history = staff.history_types(kept.person_id)
    assert "person.duplicate_merged" in kept_history
    assert "person.marked_duplicate" in kept_history
    assert "person.course_delivered" in kept_history
    assert "person.marked_duplicate" in staff.history_types(duplicate.person_id)
    assert get(staff.registrar, status)["courses_delivered"] == 1
    # The marking takes effect on the day it is recorded: asked for the day before (as_of), or
    # at the log size before it (known_at), the two read as two people.
    yesterday = str(today() - timedelta(days=1))
    assert get(staff.registrar, status, as_of=yesterday)["courses_delivered"] == 0
    assert get(staff.registrar, status, as_of=str(today()))["courses_delivered"] == 1
    assert get(staff.registrar, status, known_at=known_before)["courses_delivered"] == 0
    assert get(staff.registrar, status, known_at=log_size(server))["courses_delivered"] == 1
