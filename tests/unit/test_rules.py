"""Policy rules as pure functions: each allows its good case and names itself when it blocks."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain import rules
from ledger.domain.actors import Actor, Role
from ledger.domain.calendar import add_months, term_end
from ledger.domain.errors import InvalidCommand, RuleViolation
from ledger.domain.policy import Policy

P = Policy()
COMMITTEE = Actor("c1", Role.COMMITTEE)


def test_months_clamp_to_the_end_of_shorter_months() -> None:
    assert add_months(date(2014, 1, 31), 1) == date(2014, 2, 28)
    assert term_end(date(2014, 3, 3), 24) == date(2016, 3, 2)


def test_policy_parameters_are_validated_and_configurable() -> None:
    assert Policy.from_dict({"weeks_required": 4}).weeks_required == 4
    with pytest.raises(InvalidCommand, match="unknown parameters"):
        Policy.from_dict({"weeks": 4})
    with pytest.raises(InvalidCommand, match="weeks_required"):
        Policy.from_dict({"weeks_required": 7})


def test_r2_with_a_programme_specific_threshold() -> None:
    rules.r2_attendance(4, Policy(weeks_required=4))
    with pytest.raises(RuleViolation, match="^R2: attended 3 of 6 weeks, 4 required$"):
        rules.r2_attendance(3, Policy(weeks_required=4))


@pytest.mark.parametrize(
    ("call", "rule"),
    [
        (lambda: rules.r1_team_member(["a", "b", "c"], "d", None, {}, P), "R1"),
        (lambda: rules.r1_tutor(["a"], "t", {"a": "X", "t": "x "}, False), "R1"),
        (lambda: rules.r1_team_complete(0, True, P), "R1"),
        (lambda: rules.r2_attendance(4, P), "R2"),
        (lambda: rules.r3_signed_off_by_tutor("signed_off", "someone", "tutor"), "R3"),
        (lambda: rules.r3_sign_off_actor(Actor("x", Role.TUTOR), "tutor"), "R3"),
        (lambda: rules.r4_associate_trainer(True, True), "R4"),
        (lambda: rules.r5_licence(True, 0, ["r"], ["es"], "v1", ["v1"], P), "R5"),
        (lambda: rules.r5_licence(True, 1, ["r"], ["es"], "v2", ["v1"], P), "R5"),
        (lambda: rules.r6_renewal(date(2016, 6, 1), date(2016, 12, 31), 2, False, P), "R6"),
        (lambda: rules.r7_suspension("x", date(2015, 1, 1), date(2015, 7, 2), P), "R7"),
        (lambda: rules.r8_revocation("", False), "R8"),
        (lambda: rules.r9_instructor(True, date(2014, 3, 3), date(2015, 4, 1), 0, P), "R9"),
        (lambda: rules.r10_decision(Actor("t", Role.TUTOR), rules.Case("p")), "R10"),
        (lambda: rules.r11_lodge(date(2015, 1, 1), date(2015, 2, 1), P), "R11"),
        (lambda: rules.r11_panel(COMMITTEE, "c1", rules.Case("p")), "R11"),
    ],
)
def test_a_blocked_command_names_its_rule(call: object, rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        call()  # type: ignore[operator]
    assert caught.value.rule == rule
    assert str(caught.value).startswith(f"{rule}: ")


@pytest.mark.parametrize(
    "call",
    [
        lambda: rules.r1_team_member(["a", "b"], "c", "t", {"a": "A", "c": "C", "t": "T"}, P),
        lambda: rules.r1_tutor(["a"], "t", {"a": "A", "t": "T"}, False),
        lambda: rules.r1_team_complete(3, True, P),
        lambda: rules.r2_attendance(5, P),
        lambda: rules.r3_signed_off_by_tutor("signed_off", "tutor", "tutor"),
        lambda: rules.r3_sign_off_actor(Actor("tutor", Role.TUTOR), "tutor"),
        lambda: rules.r4_associate_trainer(True, False),
        lambda: rules.r5_licence(True, 1, ["r"], ["es"], "v1", ["v1"], P),
        lambda: rules.r6_renewal(date(2016, 10, 2), date(2016, 12, 31), 2, False, P),
        lambda: rules.r7_suspension("x", date(2015, 1, 1), date(2015, 7, 1), P),
        lambda: rules.r8_revocation("fraud", False),
        lambda: rules.r9_instructor(True, date(2014, 3, 3), date(2015, 3, 3), 1, P),
        lambda: rules.r10_decision(COMMITTEE, rules.Case("p", evidence_recorders=frozenset({"r"}))),
        lambda: rules.r11_lodge(date(2015, 1, 1), date(2015, 1, 31), P),
        lambda: rules.r11_panel(Actor("c2", Role.COMMITTEE), "c1", rules.Case("p")),
    ],
)
def test_the_allowed_case_passes(call: object) -> None:
    call()  # type: ignore[operator]


def test_r6_renewal_extends_from_the_previous_expiry_or_the_renewal_date() -> None:
    assert rules.r6_renewal(date(2016, 12, 1), date(2016, 12, 31), 2, False, P) == date(
        2018, 12, 31
    )
    assert rules.r6_renewal(date(2017, 3, 1), date(2016, 12, 31), 2, False, P) == date(2019, 2, 28)
    with pytest.raises(RuleViolation, match="^R6: renewal closed on 2017-12-31"):
        rules.r6_renewal(date(2018, 1, 1), date(2016, 12, 31), 2, False, P)


CASE = rules.Case(
    "holder",
    tutors=frozenset({"tutor"}),
    teachers=frozenset({"faculty"}),
    appellants=frozenset({"lodger"}),
    evidence_recorders=frozenset({"recorder"}),
)


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        ("holder", "holder is the person the decision concerns"),
        ("tutor", "tutor tutored the field project of the person concerned"),
        ("faculty", "faculty taught the person concerned"),
        ("lodger", "lodger lodged an appeal in this case"),
        ("recorder", "recorder recorded evidence for this decision"),
    ],
)
def test_r10_and_r11_block_everyone_with_a_part_in_the_case(person: str, reason: str) -> None:
    actor = Actor(person, Role.COMMITTEE)
    with pytest.raises(RuleViolation, match=f"^R10: {reason}"):
        rules.r10_decision(actor, CASE)
    with pytest.raises(RuleViolation, match=f"^R11: {reason}"):
        rules.r11_panel(actor, "decider", CASE)


def test_r10_and_r11_admit_a_committee_member_with_no_part_in_the_case() -> None:
    rules.r10_decision(Actor("outsider", Role.COMMITTEE), CASE)
    rules.r11_panel(Actor("outsider", Role.COMMITTEE), "decider", CASE)
