"""Refusals name the condition that failed, with its dates; corrections name the rule and the
decision that stands in the way. Pure functions and aggregates, with plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from ledger.domain import corrections, rules
from ledger.domain.actors import Actor, Role
from ledger.domain.certificates import Counted, Licence, LicenceGranted, LicenceRenewed
from ledger.domain.errors import Conflict, InvalidCommand, RuleViolation
from ledger.domain.policy import Policy

P = Policy()
AT = datetime(2016, 1, 15, 9, tzinfo=UTC)
COMMITTEE = Actor("committee-bo", Role.COMMITTEE)


def refusal(call: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        call()  # type: ignore[operator]
    return str(caught.value)


def r5(delivered: int, before: list[date], policy: Policy = P) -> str:
    return refusal(
        lambda: rules.r5_licence(
            True,
            delivered,
            ["Cantabria"],
            ["es"],
            "v1",
            ["v1"],
            policy,
            qualified_on=date(2013, 7, 19),
            before=before,
        )
    )


def test_r5_names_a_course_delivered_before_the_qualification() -> None:
    assert r5(0, [date(2013, 6, 30)]) == (
        "R5: 1 course delivered, but on 2013-06-30, before the qualification of 2013-07-19;"
        " courses must follow it"
    )


def test_r5_lists_every_early_course_and_the_requirement_when_more_are_needed() -> None:
    assert r5(0, [date(2013, 7, 2), date(2013, 6, 30)], Policy(licence_courses_required=2)) == (
        "R5: 2 courses delivered, but on 2013-06-30 and 2013-07-02, before the qualification of"
        " 2013-07-19; courses must follow it (2 required)"
    )
    assert r5(1, [date(2013, 6, 30)], Policy(licence_courses_required=2)) == (
        "R5: 1 local course delivered since the qualification of 2013-07-19, 2 required;"
        " 1 more delivered on 2013-06-30, before it, do not count"
    )


def test_r5_without_any_course_says_since_when_they_count() -> None:
    assert r5(0, []) == (
        "R5: 0 local courses delivered since the qualification of 2013-07-19, 1 required"
    )


def test_r2_says_how_many_weeks_were_attended_of_how_many() -> None:
    assert refusal(lambda: rules.r2_attendance(4, P)) == "R2: attended 4 of 6 weeks, 5 required"


def test_r3_names_the_date_a_project_was_returned() -> None:
    assert (
        refusal(
            lambda: rules.r3_signed_off_by_tutor(
                "returned_for_rework", None, "t", returned_on=date(2013, 5, 2)
            )
        )
        == "R3: the field project was returned for rework on 2013-05-02, not yet signed off"
    )


def test_r6_names_the_start_of_the_term_the_courses_count_in() -> None:
    assert (
        refusal(
            lambda: rules.r6_renewal(
                date(2016, 1, 15), date(2016, 3, 2), 1, False, P, term_started_on=date(2014, 3, 3)
            )
        )
        == "R6: 1 course delivered during the licence term since 2014-03-03, 2 required"
    )


def test_r9_names_since_when_the_licence_is_held_and_when_it_will_be_enough() -> None:
    assert (
        refusal(lambda: rules.r9_instructor(True, date(2014, 3, 3), date(2014, 9, 10), 1, P))
        == "R9: licence held for 6 months since 2014-03-03, 12 required (from 2015-03-03)"
    )
    assert (
        refusal(lambda: rules.r9_instructor(True, date(2014, 3, 3), date(2015, 4, 1), 0, P))
        == "R9: 0 full programmes delivered, 1 required"
    )


@pytest.mark.parametrize(
    ("counted", "expected"),
    [
        (
            Counted("R5", "granted", date(2014, 5, 1), ("d1",)),
            "R5: course of 2014-03-02 counted toward licence LT-1 granted on 2014-05-01;"
            " it cannot be retracted",
        ),
        (
            Counted("R6", "renewed", date(2016, 1, 15), ("d1",)),
            "R6: course of 2014-03-02 counted toward the renewal of licence LT-1 on 2016-01-15;"
            " it cannot be retracted",
        ),
        (
            Counted("R9", "certified", date(2015, 4, 1), ("d1",)),
            "R9: full programme of 2014-03-02 counted toward instructor certification LT-1"
            " certified on 2015-04-01; it cannot be retracted",
        ),
        (
            Counted("R9", "renewed", date(2018, 4, 1), ("d1",)),
            "R9: full programme of 2014-03-02 counted toward the renewal of instructor"
            " certification LT-1 on 2018-04-01; it cannot be retracted",
        ),
    ],
)
def test_a_course_retraction_names_the_rule_and_the_decision_that_counted_it(
    counted: Counted, expected: str
) -> None:
    corrections.course_retraction(date(2014, 3, 2), "LT-1", None)
    assert refusal(lambda: corrections.course_retraction(date(2014, 3, 2), "LT-1", counted)) == (
        expected
    )


def test_an_attendance_correction_names_the_qualification_that_counted_the_week() -> None:
    corrections.attendance_correction(6, False, None, None)
    corrections.attendance_correction(6, True, "AT-1", date(2013, 7, 19))
    corrections.attendance_correction(6, False, "AT-1", date(2013, 7, 19), 5, 5)
    assert refusal(
        lambda: corrections.attendance_correction(6, False, "AT-1", date(2013, 7, 19), 4, 5)
    ) == (
        "R2: week 6 counted toward Associate Trainer AT-1 awarded on 2013-07-19;"
        " without it 4 weeks would be attended, 5 required; it cannot be corrected to absent"
    )


def test_a_sign_off_withdrawal_names_the_qualification_that_relied_on_it() -> None:
    corrections.sign_off_withdrawal(date(2013, 7, 10), None, None)
    assert refusal(
        lambda: corrections.sign_off_withdrawal(date(2013, 7, 10), "AT-1", date(2013, 7, 19))
    ) == (
        "R3: the sign-off of 2013-07-10 counted toward Associate Trainer AT-1 awarded on"
        " 2013-07-19; it cannot be withdrawn"
    )


def test_a_sign_off_is_withdrawn_by_its_tutor_a_registrar_or_an_admin() -> None:
    for actor in (Actor("t", Role.TUTOR), Actor("r", Role.REGISTRAR), Actor("a", Role.ADMIN)):
        corrections.sign_off_withdrawer(actor, "t")
    for actor in (Actor("other", Role.TUTOR), COMMITTEE):
        assert refusal(lambda a=actor: corrections.sign_off_withdrawer(a, "t")).startswith("R3:")


def test_a_duplicate_is_two_distinct_people_neither_erased_nor_merged_nor_in_one_programme() -> (
    None
):
    corrections.duplicate_marking("d", "k", set(), {"d": None, "k": None})
    with pytest.raises(InvalidCommand, match="themselves"):
        corrections.duplicate_marking("k", "k", set(), {})
    with pytest.raises(Conflict, match="person d's data is erased"):
        corrections.duplicate_marking("d", "k", {"d"}, {})
    with pytest.raises(Conflict, match="person k is already marked a duplicate of x"):
        corrections.duplicate_marking("d", "k", set(), {"k": "x"})
    with pytest.raises(Conflict, match="both people are enrolled in programme p1"):
        corrections.duplicate_enrolments({"p2", "p1"})


def test_a_licence_remembers_the_courses_each_decision_counted() -> None:
    licence = Licence.start(
        LicenceGranted,
        uuid4(),
        COMMITTEE,
        AT,
        date(2014, 3, 3),
        certificate_id="LT-1",
        holder_id="h",
        qualification_id="AT-1",
        programme_id="p",
        regions=("Cantabria",),
        languages=("es",),
        material_version="v1",
        valid_from=date(2014, 3, 3),
        valid_until=date(2016, 3, 2),
        courses=("d1",),
    )
    licence.record(
        LicenceRenewed,
        COMMITTEE,
        AT,
        previous_until=date(2016, 3, 2),
        valid_until=date(2018, 3, 2),
        courses=("d2", "d3"),
    )
    assert licence.counting("d1") == Counted("R5", "granted", date(2014, 3, 3), ("d1",))
    assert licence.counting("d3") == Counted("R6", "renewed", date(2016, 1, 15), ("d2", "d3"))
    assert licence.counting("d9") is None


def test_a_decision_recorded_without_the_courses_member_counted_none() -> None:
    licence = Licence.start(
        LicenceGranted,
        uuid4(),
        COMMITTEE,
        AT,
        certificate_id="LT-1",
        holder_id="h",
        qualification_id="AT-1",
        programme_id="p",
        regions=("Cantabria",),
        languages=("es",),
        material_version="v1",
        valid_from=date(2016, 1, 15),
        valid_until=date(2018, 1, 14),
    )
    assert licence.counted == []


def test_tutors_recording_attendance_is_off_unless_the_programme_s_policy_says_1() -> None:
    assert Policy().tutors_record_attendance == 0
    assert Policy.from_dict({"tutors_record_attendance": 1}).tutors_record_attendance == 1
    with pytest.raises(InvalidCommand, match="must be 0 or 1"):
        Policy.from_dict({"tutors_record_attendance": 3})


def test_r8_names_the_kind_of_certificate_revoked() -> None:
    assert refusal(lambda: rules.r8_revocation("again", True)) == (
        "R8: the licence is already revoked; revocation is final"
    )
    assert refusal(lambda: rules.r8_revocation("again", True, "instructor certification")) == (
        "R8: the instructor certification is already revoked; revocation is final"
    )
    assert (
        refusal(lambda: rules.r8_not_revoked(True, "renewed", "instructor certification"))
        == "R8: a revoked instructor certification cannot be renewed"
    )
