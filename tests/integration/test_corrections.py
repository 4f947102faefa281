"""Corrections are new signed events with a reason and the acting staff id, never edits; each is
refused, naming the rule and the decision, once a certificate decision relied on what it would
take back. Through the service layer on both backends."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import Conflict, InvalidCommand, NotFound, RuleViolation
from ledger.domain.person import ERASED
from ledger.service import LedgerService
from tests.builders import (
    COMMITTEE,
    REGISTRAR,
    cohort,
    licensed,
    qualified,
    register,
    with_lookups,
)
from tests.conftest import Ledger

ADMIN = Actor("admin-eve", Role.ADMIN)


def refused(rule: str, message: str) -> pytest.RaisesExc[RuleViolation]:
    return pytest.raises(RuleViolation, match=rf"^{rule}: {message}$")


def events(ledger: Ledger, stream: str | UUID) -> list[Any]:
    return list(ledger.store.app.events.get(UUID(str(stream))))


def stored_bytes(ledger: Ledger) -> bytes:
    notes = ledger.store.app.recorder.select_notifications(start=1, limit=10**9)
    return b"\n".join(bytes(n.state) for n in notes)


def service(ledger: Ledger) -> LedgerService:
    return with_lookups(ledger.store, ledger.service)


# -- courses -----------------------------------------------------------------------------------


def test_a_retracted_course_no_longer_counts_and_keeps_its_reason_and_actor(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    person = register(ledger_service, "Rita Example", "Agency R")
    delivery = ledger_service.record_course(REGISTRAR, person, date(2014, 2, 1), "Cantabria", 9).id
    receipt = ledger_service.retract_course(
        REGISTRAR, person, delivery, "recorded for the wrong trainer"
    )
    assert len(receipt.positions) == 1
    assert ledger_service.person(person).deliveries == []
    retraction = events(ledger, person)[-1]
    assert (retraction.TOPIC, retraction.delivery_id) == ("person.course_retracted", delivery)
    assert (retraction.actor, retraction.role) == (REGISTRAR.id, "registrar")
    assert retraction.reason == "recorded for the wrong trainer"
    assert b"recorded for the wrong trainer" not in stored_bytes(ledger)


def test_a_course_is_retracted_once_and_only_if_recorded(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    person = register(ledger_service, "Rita Example", "Agency R")
    delivery = ledger_service.record_course(REGISTRAR, person, date(2014, 2, 1), "Cantabria", 9).id
    ledger_service.retract_course(REGISTRAR, person, delivery, "mistake")
    with pytest.raises(Conflict, match="already retracted"):
        ledger_service.retract_course(REGISTRAR, person, delivery, "mistake")
    with pytest.raises(NotFound, match="no course"):
        ledger_service.retract_course(REGISTRAR, person, "not-a-delivery", "mistake")
    with pytest.raises(InvalidCommand, match="^reason: must not be empty"):
        ledger_service.retract_course(REGISTRAR, person, delivery, "  ")


def test_retracting_a_course_a_licence_counted_is_refused_naming_the_licence_and_its_date(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group, licence = licensed(ledger_service)
    (course,) = ledger_service.person(group.members[0]).deliveries
    assert ledger_service.licence(licence).counted[0].deliveries == (course.delivery_id,)
    with refused(
        "R5",
        f"course of 2014-02-01 counted toward licence {licence} granted on 2014-03-03;"
        " it cannot be retracted",
    ):
        ledger_service.retract_course(REGISTRAR, group.members[0], course.delivery_id, "mistake")


def test_retracting_a_course_a_renewal_counted_is_refused_naming_the_renewal(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group, licence = licensed(ledger_service)
    trainer = group.members[0]
    later = ledger_service.record_course(REGISTRAR, trainer, date(2015, 6, 1), "Cantabria", 8).id
    ledger_service.record_course(REGISTRAR, trainer, date(2015, 9, 1), "Cantabria", 8)
    ledger_service.renew_licence(COMMITTEE, licence, on=date(2016, 1, 15))
    with refused(
        "R6",
        f"course of 2015-06-01 counted toward the renewal of licence {licence} on 2016-01-15;"
        " it cannot be retracted",
    ):
        ledger_service.retract_course(REGISTRAR, trainer, later, "mistake")


def test_retracting_a_programme_an_instructor_decision_counted_is_refused(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group, licence = licensed(ledger_service)
    trainer = group.members[0]
    programme = ledger_service.record_course(
        REGISTRAR, trainer, date(2014, 9, 1), "Cantabria", 20, full_programme=True
    ).id
    instructor = ledger_service.certify_instructor(COMMITTEE, licence, on=date(2015, 4, 1)).id
    with refused(
        "R9",
        f"full programme of 2014-09-01 counted toward instructor certification {instructor}"
        " certified on 2015-04-01; it cannot be retracted",
    ):
        ledger_service.retract_course(REGISTRAR, trainer, programme, "mistake")


def test_a_course_no_decision_counted_can_be_retracted_after_a_licence(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group, _ = licensed(ledger_service)
    later = ledger_service.record_course(
        REGISTRAR, group.members[0], date(2014, 5, 1), "Cantabria", 8
    ).id
    ledger_service.retract_course(ADMIN, group.members[0], later, "entered twice")
    assert [d.delivery_id for d in ledger_service.person(group.members[0]).deliveries] != [later]


def test_r5_names_a_course_delivered_before_the_qualification_with_both_dates(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group, qualification = qualified(ledger_service)
    ledger_service.publish_material(REGISTRAR, "ECEI-2014", "2014 edition", on=date(2014, 1, 10))
    ledger_service.record_course(REGISTRAR, group.members[0], date(2013, 6, 30), "Cantabria", 9)
    with refused(
        "R5",
        "1 course delivered, but on 2013-06-30, before the qualification of 2013-07-20;"
        " courses must follow it",
    ):
        ledger_service.grant_licence(COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014")


# -- attendance --------------------------------------------------------------------------------


def test_a_corrected_week_keeps_its_reason_and_actor_and_counts_as_corrected(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    person = group.members[0]
    receipt = ledger_service.correct_attendance(
        REGISTRAR, group.programme_id, person, 4, False, "sign-in sheet shows an absence"
    )
    enrolment = ledger_service.enrolment(group.programme_id, person)
    assert enrolment.weeks_attended == 5
    correction = events(ledger, receipt.id)[-1]
    assert (correction.TOPIC, correction.week, correction.attended) == (
        "enrolment.attendance_corrected",
        4,
        False,
    )
    assert (correction.actor, correction.reason) == (REGISTRAR.id, "sign-in sheet shows an absence")
    assert (
        correction.effective_on == ledger_service.programme(group.programme_id).weeks[4].starts_on
    )
    assert b"sign-in sheet shows an absence" not in stored_bytes(ledger)


def test_recording_a_different_answer_for_a_week_is_refused_pointing_to_the_correction(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    with pytest.raises(Conflict, match="already recorded as attended; to change it, record a"):
        ledger_service.record_attendance(REGISTRAR, group.programme_id, group.members[0], 2, False)


def test_a_week_without_attendance_is_recorded_not_corrected(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service, attended=3)
    with pytest.raises(Conflict, match="no attendance is recorded for week 5"):
        ledger_service.correct_attendance(
            REGISTRAR, group.programme_id, group.members[0], 5, True, "late sheet"
        )


def test_after_an_award_a_week_is_corrected_to_absent_only_while_r2_still_holds(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group, certificate = qualified(ledger_service)  # six weeks attended, five required
    person = group.members[0]
    ledger_service.correct_attendance(REGISTRAR, group.programme_id, person, 6, False, "mistake")
    assert ledger_service.enrolment(group.programme_id, person).weeks_attended == 5
    with refused(
        "R2",
        f"week 5 counted toward Associate Trainer {certificate} awarded on 2013-07-20;"
        " without it 4 weeks would be attended, 5 required; it cannot be corrected to absent",
    ):
        ledger_service.correct_attendance(
            REGISTRAR, group.programme_id, person, 5, False, "mistake"
        )


# -- sign-off ----------------------------------------------------------------------------------


def test_the_tutor_withdraws_a_mistaken_sign_off_and_the_project_is_open_again(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    ledger_service.sign_off(group.tutor, group.project_id, "done", on=date(2013, 7, 10))
    ledger_service.withdraw_sign_off(group.tutor, group.project_id, "signed the wrong project")
    project = ledger_service.project(group.project_id)
    assert (project.status, project.signed_off_by, project.signed_off_on) == ("open", None, None)
    withdrawal = events(ledger, group.project_id)[-1]
    assert (withdrawal.TOPIC, withdrawal.actor, withdrawal.reason) == (
        "project.sign_off_withdrawn",
        group.tutor_id,
        "signed the wrong project",
    )
    with pytest.raises(RuleViolation, match="^R3: the field project is open, not signed off"):
        ledger_service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


def test_a_withdrawal_reason_is_the_tutor_s_and_erasing_the_tutor_shreds_it(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    ledger_service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    ledger_service.withdraw_sign_off(REGISTRAR, group.project_id, "signed too early")
    ledger_service.erase_person(ADMIN, group.tutor_id, "request")
    assert events(ledger, group.project_id)[-1].reason == ERASED


def test_only_the_own_tutor_a_registrar_or_an_admin_withdraws_a_sign_off(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    ledger_service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    other = Actor(register(ledger_service, "Other Tutor", "Elsewhere"), Role.TUTOR)
    for actor in (other, COMMITTEE):
        with pytest.raises(RuleViolation, match="^R3: only the project's own tutor, a registrar"):
            ledger_service.withdraw_sign_off(actor, group.project_id, "mistake")
    ledger_service.withdraw_sign_off(ADMIN, group.project_id, "mistake")
    with pytest.raises(Conflict, match="the project is open: there is no sign-off to withdraw"):
        ledger_service.withdraw_sign_off(ADMIN, group.project_id, "again")


def test_a_sign_off_a_qualification_relied_on_cannot_be_withdrawn(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group, certificate = qualified(ledger_service)
    with refused(
        "R3",
        f"the sign-off of 2013-07-10 counted toward Associate Trainer {certificate} awarded on"
        " 2013-07-20; it cannot be withdrawn",
    ):
        ledger_service.withdraw_sign_off(group.tutor, group.project_id, "mistake")


def test_a_sign_off_a_qualification_relied_on_is_not_undone_by_a_return_for_rework(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    group, certificate = qualified(ledger_service)
    with refused(
        "R3",
        f"the sign-off of 2013-07-10 counted toward Associate Trainer {certificate} awarded on"
        " 2013-07-20; it cannot be withdrawn",
    ):
        ledger_service.return_project(group.tutor, group.project_id, "redo it")
    assert ledger_service.project(group.project_id).status == "signed_off"


def test_r3_names_the_date_a_project_was_returned_for_rework(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service)
    ledger_service.return_project(group.tutor, group.project_id, "redo", on=date(2013, 5, 2))
    with refused(
        "R3", "the field project was returned for rework on 2013-05-02, not yet signed off"
    ):
        ledger_service.award_qualification(COMMITTEE, group.programme_id, group.members[0])


# -- duplicates --------------------------------------------------------------------------------


def _twice(ledger_service: LedgerService) -> tuple[str, str]:
    kept = register(ledger_service, "Dana Example", "Agency D")
    duplicate = ledger_service.register_person(
        REGISTRAR, "Dana Example", "dana.ex@example.org", "Agency D", "Cantabria", "Spain"
    ).id
    return kept, duplicate


def test_marking_a_duplicate_writes_both_streams_in_one_save_with_reason_and_actor(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    kept, duplicate = _twice(ledger_service)
    receipt = ledger_service.mark_duplicate(REGISTRAR, duplicate, kept, "registered twice")
    assert len(receipt.positions) == 2
    marked, merged = events(ledger, duplicate)[-1], events(ledger, kept)[-1]
    assert (marked.TOPIC, marked.duplicate_of, marked.actor, marked.reason) == (
        "person.marked_duplicate",
        kept,
        REGISTRAR.id,
        "registered twice",
    )
    assert (merged.TOPIC, merged.duplicate_id) == ("person.duplicate_merged", duplicate)
    assert ledger_service.person(kept).duplicates == [duplicate]
    assert b"registered twice" not in stored_bytes(ledger)


def test_later_commands_naming_a_duplicate_are_refused_naming_the_kept_person(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    kept, duplicate = _twice(ledger_service)
    ledger_service.mark_duplicate(REGISTRAR, duplicate, kept, "registered twice")
    with pytest.raises(Conflict, match=f"marked a duplicate of {kept}; record this for that"):
        ledger_service.record_course(REGISTRAR, duplicate, date(2014, 2, 1), "Cantabria", 9)
    group = cohort(ledger_service, members=0)
    with pytest.raises(Conflict, match=f"duplicate of {kept}"):
        ledger_service.enrol(REGISTRAR, group.programme_id, duplicate)


def test_a_merged_person_s_courses_count_for_the_kept_person(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group, qualification = qualified(ledger_service)
    kept = group.members[0]
    duplicate = register(ledger_service, "Member Zero Again", "Agency 0")
    course = ledger_service.record_course(
        REGISTRAR, duplicate, date(2014, 2, 1), "Cantabria", 12
    ).id
    ledger_service.publish_material(REGISTRAR, "ECEI-2014", "2014 edition", on=date(2014, 1, 10))
    with pytest.raises(RuleViolation, match="^R5: 0 local courses"):
        ledger_service.grant_licence(COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014")
    ledger_service.mark_duplicate(REGISTRAR, duplicate, kept, "same person")
    licence = ledger_service.grant_licence(
        COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014", on=date(2014, 3, 3)
    ).id
    assert ledger_service.licence(licence).counted[0].deliveries == (course,)
    with pytest.raises(
        RuleViolation, match=f"^R5: course of 2014-02-01 counted toward licence {licence}"
    ):
        ledger_service.retract_course(REGISTRAR, duplicate, course, "mistake")


def test_marking_a_duplicate_is_refused_for_the_same_erased_or_already_merged_people(
    ledger: Ledger,
) -> None:
    ledger_service = service(ledger)
    kept, duplicate = _twice(ledger_service)
    third = register(ledger_service, "Third Example", "Agency T")
    erased = register(ledger_service, "Erased Example", "Agency E")
    ledger_service.erase_person(ADMIN, erased, "request")
    with pytest.raises(InvalidCommand, match="cannot be a duplicate of themselves"):
        ledger_service.mark_duplicate(REGISTRAR, kept, kept, "x")
    with pytest.raises(Conflict, match=f"person {erased}'s data is erased"):
        ledger_service.mark_duplicate(REGISTRAR, erased, kept, "x")
    ledger_service.mark_duplicate(REGISTRAR, duplicate, kept, "registered twice")
    with pytest.raises(Conflict, match=f"person {duplicate} is already marked a duplicate"):
        ledger_service.mark_duplicate(REGISTRAR, duplicate, third, "x")
    with pytest.raises(Conflict, match=f"person {duplicate} is already marked a duplicate"):
        ledger_service.mark_duplicate(REGISTRAR, third, duplicate, "x")


def test_two_people_enrolled_in_the_same_programme_cannot_be_merged(ledger: Ledger) -> None:
    ledger_service = service(ledger)
    group = cohort(ledger_service, members=2)
    one, other = group.members
    with pytest.raises(
        Conflict, match=f"both people are enrolled in programme {group.programme_id}"
    ):
        ledger_service.mark_duplicate(REGISTRAR, one, other, "same person")
