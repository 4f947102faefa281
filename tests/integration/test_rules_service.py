"""Every rule R1 to R11, allowed and blocked, through the service layer on both backends."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import RuleViolation
from tests.builders import COMMITTEE, PANEL, REGISTRAR, cohort, licensed, qualified, register
from tests.conftest import Ledger


def blocked(rule: str, message: str | None = None) -> pytest.RaisesExc[RuleViolation]:
    return pytest.raises(RuleViolation, match=rf"^{rule}: {message or ''}")


def test_r1_allows_a_team_of_three_with_an_independent_tutor(ledger: Ledger) -> None:
    group = cohort(ledger.service, members=3)
    project = ledger.service.project(group.project_id)
    assert len(project.members) == 3
    assert project.tutor_id == group.tutor_id


def test_r1_blocks_a_fourth_team_member(ledger: Ledger) -> None:
    group = cohort(ledger.service, members=3)
    fourth = register(ledger.service, "Fourth Person", "Agency 9")
    ledger.service.enrol(REGISTRAR, group.programme_id, fourth)
    with blocked("R1", "team already has 3 members, at most 3 allowed"):
        ledger.service.assign_member(REGISTRAR, group.project_id, fourth)


def test_r1_blocks_a_tutor_from_a_member_s_organisation(ledger: Ledger) -> None:
    service = ledger.service
    group = cohort(service, members=0)
    colleague = register(service, "Colleague Of Tutor", " cluster  ACADEMY ")
    service.enrol(REGISTRAR, group.programme_id, colleague)
    with blocked("R1", "tutor shares an organisation"):
        service.assign_member(REGISTRAR, group.project_id, colleague)


def test_r2_allows_five_of_six_weeks(ledger: Ledger) -> None:
    group = cohort(ledger.service, attended=5)
    ledger.service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    receipt = ledger.service.award_qualification(COMMITTEE, group.programme_id, group.members[0])
    assert receipt.id.startswith("AT-")


def test_r2_blocks_four_of_six_weeks_naming_what_is_missing(ledger: Ledger) -> None:
    group = cohort(ledger.service, attended=4)
    ledger.service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    with blocked("R2", "attended 4 of 6 weeks, 5 required$"):
        ledger.service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


def test_r3_allows_sign_off_by_the_project_s_own_tutor(ledger: Ledger) -> None:
    group = cohort(ledger.service)
    ledger.service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    assert ledger.service.project(group.project_id).signed_off_by == group.tutor_id


def test_r3_blocks_sign_off_by_another_tutor(ledger: Ledger) -> None:
    group = cohort(ledger.service)
    other = register(ledger.service, "Other Tutor", "Elsewhere")
    with blocked("R3", "only the project's own tutor"):
        ledger.service.sign_off(Actor(other, Role.TUTOR), group.project_id)


def test_r3_blocks_qualification_before_sign_off(ledger: Ledger) -> None:
    group = cohort(ledger.service)
    with blocked("R3", "the field project is open, not signed off"):
        ledger.service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


def test_r4_allows_one_award_per_person_and_programme(ledger: Ledger) -> None:
    _, certificate = qualified(ledger.service)
    assert ledger.service.certificate(certificate).holder_id


def test_r4_blocks_a_second_award(ledger: Ledger) -> None:
    group, _ = qualified(ledger.service)
    with blocked("R4", "Associate Trainer already awarded"):
        ledger.service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


def test_r4_blocks_a_withdrawn_enrolment(ledger: Ledger) -> None:
    group = cohort(ledger.service)
    ledger.service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    ledger.service.withdraw(REGISTRAR, group.programme_id, group.members[0], "moved on")
    with blocked("R4", "the enrolment is withdrawn"):
        ledger.service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


def test_r5_allows_a_licence_after_one_local_course(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    licence = ledger.service.licence(licence_id)
    assert (licence.valid_from, licence.valid_until) == (date(2014, 3, 3), date(2016, 3, 2))


def test_r5_blocks_a_licence_without_a_local_course(ledger: Ledger) -> None:
    service = ledger.service
    _, qualification = qualified(service)
    service.publish_material(REGISTRAR, "ECEI-2014", "2014 edition", on=date(2014, 1, 10))
    with blocked(
        "R5", "0 local courses delivered since the qualification of 2013-07-20, 1 required"
    ):
        service.grant_licence(COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014")


def _courses(ledger: Ledger, person: str, *days: date) -> None:
    for day in days:
        ledger.service.record_course(REGISTRAR, person, day, "Cantabria", 12)


def test_r6_allows_renewal_in_the_window_extending_from_previous_expiry(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    _courses(ledger, group.members[0], date(2014, 5, 1), date(2015, 6, 1))
    ledger.service.renew_licence(COMMITTEE, licence_id, on=date(2016, 1, 15))
    assert ledger.service.licence(licence_id).valid_until == date(2018, 3, 2)


def test_r6_allows_renewal_after_lapse_from_the_renewal_date(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    _courses(ledger, group.members[0], date(2014, 5, 1), date(2015, 6, 1))
    ledger.service.renew_licence(COMMITTEE, licence_id, on=date(2016, 6, 1))
    assert ledger.service.licence(licence_id).valid_until == date(2018, 5, 31)


def test_r6_blocks_renewal_before_the_window_opens(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    _courses(ledger, group.members[0], date(2014, 5, 1), date(2015, 6, 1))
    with blocked("R6", "renewal opens on 2015-12-03"):
        ledger.service.renew_licence(COMMITTEE, licence_id, on=date(2015, 6, 2))


def test_r6_blocks_renewal_without_two_courses_in_the_term(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    _courses(ledger, group.members[0], date(2014, 5, 1))
    with blocked("R6", "1 course delivered during the licence term since 2014-03-03, 2 required"):
        ledger.service.renew_licence(COMMITTEE, licence_id, on=date(2016, 1, 15))


def test_r7_allows_a_reasoned_suspension_of_up_to_six_months(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.suspend_licence(
        COMMITTEE, licence_id, "complaint under review", date(2015, 4, 10), on=date(2015, 1, 10)
    )
    licence = ledger.service.licence(licence_id)
    assert licence.status_on(date(2015, 2, 1)) == "suspended"
    assert licence.status_on(date(2015, 4, 10)) == "valid"


def test_r7_blocks_a_suspension_longer_than_six_months(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    with blocked("R7", "suspension ends 2015-09-10, at most 6 months"):
        ledger.service.suspend_licence(
            COMMITTEE, licence_id, "complaint", date(2015, 9, 10), on=date(2015, 1, 10)
        )


def test_r7_blocks_a_suspension_without_reason(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    with blocked("R7", "a suspension needs a reason"):
        ledger.service.suspend_licence(
            COMMITTEE, licence_id, "  ", date(2015, 2, 1), on=date(2015, 1, 10)
        )


def test_r7_reinstatement_ends_a_suspension_early_without_extending_the_term(
    ledger: Ledger,
) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.suspend_licence(
        COMMITTEE, licence_id, "audit", date(2015, 4, 10), on=date(2015, 1, 10)
    )
    ledger.service.reinstate_licence(COMMITTEE, licence_id, on=date(2015, 2, 1))
    licence = ledger.service.licence(licence_id)
    assert licence.status_on(date(2015, 1, 31)) == "suspended"
    assert licence.status_on(date(2015, 2, 1)) == "valid"
    assert licence.valid_until == date(2016, 3, 2)


def test_r8_allows_revocation_with_a_reason(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.revoke_licence(COMMITTEE, licence_id, "misuse of material", on=date(2015, 5, 1))
    assert ledger.service.licence(licence_id).status_on(date(2015, 5, 1)) == "revoked"


def test_r8_blocks_renewal_and_reinstatement_of_a_revoked_licence(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    _courses(ledger, group.members[0], date(2014, 5, 1), date(2015, 6, 1))
    ledger.service.revoke_licence(COMMITTEE, licence_id, "misuse of material", on=date(2015, 7, 1))
    with blocked("R8", "a revoked licence cannot be renewed"):
        ledger.service.renew_licence(COMMITTEE, licence_id, on=date(2016, 1, 15))
    with blocked("R8", "a revoked licence cannot be reinstated"):
        ledger.service.reinstate_licence(COMMITTEE, licence_id, on=date(2016, 1, 15))
    with blocked("R8", "the licence is already revoked"):
        ledger.service.revoke_licence(COMMITTEE, licence_id, "again", on=date(2016, 1, 15))


def test_r9_allows_instructor_certification_after_twelve_months_and_a_programme(
    ledger: Ledger,
) -> None:
    group, licence_id = licensed(ledger.service)
    ledger.service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, full_programme=True
    )
    receipt = ledger.service.certify_instructor(COMMITTEE, licence_id, on=date(2015, 4, 1))
    cert = ledger.service.instructor(receipt.id)
    assert cert.valid_until == date(2018, 3, 31)


def test_r9_blocks_instructor_certification_before_twelve_months(ledger: Ledger) -> None:
    group, licence_id = licensed(ledger.service)
    ledger.service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, full_programme=True
    )
    with blocked("R9", "licence held for 6 months since 2014-03-03, 12 required"):
        ledger.service.certify_instructor(COMMITTEE, licence_id, on=date(2014, 9, 10))


def test_r10_allows_a_committee_member_who_recorded_no_evidence(ledger: Ledger) -> None:
    _, certificate = qualified(ledger.service)
    assert ledger.service.certificate(certificate).decisions[0].decided_by == COMMITTEE.id


def test_r10_blocks_a_registrar_taking_a_decision(ledger: Ledger) -> None:
    group = cohort(ledger.service)
    ledger.service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    with blocked("R10", "decisions are taken by the committee, not the registrar"):
        ledger.service.award_qualification(REGISTRAR, group.programme_id, group.members[0])


def test_r10_blocks_a_committee_member_who_recorded_the_evidence(ledger: Ledger) -> None:
    service = ledger.service
    group = cohort(service, attended=5)
    recorder = Actor("committee-dana", Role.COMMITTEE)
    service.record_attendance(recorder, group.programme_id, group.members[0], 6)
    service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    with blocked("R10", "committee-dana recorded evidence"):
        service.award_qualification(recorder, group.programme_id, group.members[0])


def test_r11_allows_a_timely_appeal_decided_by_an_independent_panel_member(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.revoke_licence(COMMITTEE, licence_id, "misuse", on=date(2015, 5, 1))
    revocation = ledger.service.licence(licence_id).decisions[-1]
    appeal = ledger.service.lodge_appeal(
        REGISTRAR, licence_id, revocation.version, "new evidence", on=date(2015, 5, 20)
    ).id
    ledger.service.decide_appeal(PANEL, appeal, "rejected", "evidence not new", on=date(2015, 6, 1))
    assert ledger.service.appeal(appeal).outcome == "rejected"


def test_r11_blocks_a_late_appeal(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.revoke_licence(COMMITTEE, licence_id, "misuse", on=date(2015, 5, 1))
    revocation = ledger.service.licence(licence_id).decisions[-1]
    with blocked("R11", "lodged 40 days after the decision, within 30 required"):
        ledger.service.lodge_appeal(
            REGISTRAR, licence_id, revocation.version, "late", on=date(2015, 6, 10)
        )


def test_r11_blocks_the_decision_maker_deciding_the_appeal(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    ledger.service.revoke_licence(COMMITTEE, licence_id, "misuse", on=date(2015, 5, 1))
    revocation = ledger.service.licence(licence_id).decisions[-1]
    appeal = ledger.service.lodge_appeal(
        REGISTRAR, licence_id, revocation.version, "g", on=date(2015, 5, 2)
    ).id
    with blocked("R11", "the panel member took the decision under appeal"):
        ledger.service.decide_appeal(COMMITTEE, appeal, "upheld", "r", on=date(2015, 5, 10))
