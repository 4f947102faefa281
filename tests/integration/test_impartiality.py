"""R10 and R11 impartiality: nobody decides a case they have a part in, on both backends.

A part in the case: being the person it concerns, tutoring their field project, teaching them
(observing their courses as faculty), lodging an appeal in it, or recording its evidence.
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger.api.auth import TokenError, TokenStore
from ledger.db import Database
from ledger.domain.actors import Actor, Role
from ledger.domain.errors import RuleViolation
from ledger.service import LedgerService
from tests.builders import COMMITTEE, PANEL, REGISTRAR, cohort, licensed, qualified, register
from tests.conftest import Ledger


def blocked(rule: str, message: str) -> pytest.RaisesExc[RuleViolation]:
    return pytest.raises(RuleViolation, match=rf"^{rule}: {message}")


def as_committee(person_id: str) -> Actor:
    return Actor(person_id, Role.COMMITTEE)


def signed_off(service: LedgerService) -> tuple[str, str, str]:
    """A cohort of one whose project is signed off: (programme, member, tutor)."""
    group = cohort(service)
    service.sign_off(group.tutor, group.project_id, on=date(2013, 7, 10))
    return group.programme_id, group.members[0], group.tutor_id


def revoked_and_appealed(service: LedgerService, lodger: Actor = REGISTRAR) -> tuple[str, str]:
    """A licence revoked and the revocation appealed: (licence, appeal)."""
    _, licence_id = licensed(service)
    service.revoke_licence(COMMITTEE, licence_id, "misuse", on=date(2015, 5, 1))
    revocation = service.licence(licence_id).decisions[-1]
    appeal = service.lodge_appeal(
        lodger, licence_id, revocation.version, "new evidence", on=date(2015, 5, 20)
    ).id
    return licence_id, appeal


# -- R10 ---------------------------------------------------------------------------------------


def test_r10_blocks_a_committee_member_awarding_their_own_qualification(ledger: Ledger) -> None:
    programme, member, _ = signed_off(ledger.service)
    with blocked("R10", f"{member} is the person the decision concerns"):
        ledger.service.award_qualification(as_committee(member), programme, member)


def test_r10_blocks_the_tutor_awarding_a_qualification_to_their_team(ledger: Ledger) -> None:
    programme, member, tutor = signed_off(ledger.service)
    with blocked("R10", f"{tutor} tutored the field project"):
        ledger.service.award_qualification(as_committee(tutor), programme, member)


def test_r10_blocks_the_tutor_granting_a_licence_to_someone_they_tutored(ledger: Ledger) -> None:
    service = ledger.service
    group, qualification = qualified(service)
    service.publish_material(REGISTRAR, "ECEI-2014", "2014 edition", on=date(2014, 1, 10))
    service.record_course(REGISTRAR, group.members[0], date(2014, 2, 1), "Cantabria", 14)
    with blocked("R10", f"{group.tutor_id} tutored the field project"):
        service.grant_licence(
            as_committee(group.tutor_id), qualification, ["Cantabria"], ["es"], "ECEI-2014"
        )


def test_r10_blocks_faculty_who_observed_the_holder_s_courses(ledger: Ledger) -> None:
    service = ledger.service
    group, licence_id = licensed(service)
    faculty = register(service, "Fiona Faculty", "Foundation Faculty")
    service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, True, observed_by=faculty
    )
    with blocked("R10", f"{faculty} taught the person concerned"):
        service.certify_instructor(as_committee(faculty), licence_id, on=date(2015, 4, 1))
    with blocked("R10", f"{faculty} taught the person concerned"):
        service.suspend_licence(
            as_committee(faculty), licence_id, "complaint", date(2015, 6, 1), on=date(2015, 4, 1)
        )


def test_r10_blocks_a_holder_revoking_or_renewing_their_own_certificates(ledger: Ledger) -> None:
    service = ledger.service
    group, licence_id = licensed(service)
    holder = as_committee(group.members[0])
    service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, full_programme=True
    )
    instructor = service.certify_instructor(COMMITTEE, licence_id, on=date(2015, 4, 1)).id
    with blocked("R10", f"{holder.id} is the person the decision concerns"):
        service.revoke_licence(holder, licence_id, "mine", on=date(2015, 5, 1))
    with blocked("R10", f"{holder.id} is the person the decision concerns"):
        service.revoke_instructor(holder, instructor, "mine", on=date(2015, 5, 1))
    with blocked("R10", f"{holder.id} is the person the decision concerns"):
        service.renew_licence(holder, licence_id, on=date(2015, 12, 1))


def test_r10_blocks_the_tutor_through_the_licence_to_the_instructor_decision(
    ledger: Ledger,
) -> None:
    service = ledger.service
    group, licence_id = licensed(service)
    service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, full_programme=True
    )
    with blocked("R10", f"{group.tutor_id} tutored the field project"):
        service.certify_instructor(as_committee(group.tutor_id), licence_id, on=date(2015, 4, 1))


def test_r10_admits_a_committee_member_with_no_part_in_the_case(ledger: Ledger) -> None:
    service = ledger.service
    programme, member, _ = signed_off(service)
    outsider = register(service, "Olga Outsider", "Another Agency")
    receipt = service.award_qualification(as_committee(outsider), programme, member)
    assert service.certificate(receipt.id).decisions[0].decided_by == outsider


# -- R11 ---------------------------------------------------------------------------------------


def test_r11_blocks_the_appellant_deciding_their_own_appeal(ledger: Ledger) -> None:
    service = ledger.service
    licence_id, appeal = revoked_and_appealed(service)
    holder = service.licence(licence_id).holder_id
    with blocked("R11", f"{holder} is the person the decision concerns"):
        service.decide_appeal(as_committee(holder), appeal, "upheld", "r", on=date(2015, 6, 1))


def test_r11_blocks_the_appellant_s_tutor_on_the_panel(ledger: Ledger) -> None:
    service = ledger.service
    licence_id, appeal = revoked_and_appealed(service)
    holder = service.licence(licence_id).holder_id
    enrolment_project = service.certificate(service.licence(licence_id).qualification_id)
    tutor = service.project(enrolment_project.project_id).tutor_id  # type: ignore[attr-defined]
    assert tutor is not None
    assert tutor != holder
    with blocked("R11", f"{tutor} tutored the field project"):
        service.decide_appeal(as_committee(tutor), appeal, "upheld", "r", on=date(2015, 6, 1))


def test_r11_blocks_faculty_who_taught_the_appellant(ledger: Ledger) -> None:
    service = ledger.service
    group, licence_id = licensed(service)
    faculty = register(service, "Fiona Faculty", "Foundation Faculty")
    service.record_course(
        REGISTRAR, group.members[0], date(2014, 9, 1), "Cantabria", 20, observed_by=faculty
    )
    service.revoke_licence(COMMITTEE, licence_id, "misuse", on=date(2015, 5, 1))
    version = service.licence(licence_id).decisions[-1].version
    appeal = service.lodge_appeal(REGISTRAR, licence_id, version, "g", on=date(2015, 5, 2)).id
    with blocked("R11", f"{faculty} taught the person concerned"):
        service.decide_appeal(as_committee(faculty), appeal, "upheld", "r", on=date(2015, 6, 1))


def test_r11_blocks_whoever_lodged_the_appeal(ledger: Ledger) -> None:
    service = ledger.service
    advocate = register(service, "Ada Advocate", "Regional Agency")
    _, appeal = revoked_and_appealed(service, lodger=Actor(advocate, Role.REGISTRAR))
    with blocked("R11", f"{advocate} lodged an appeal in this case"):
        service.decide_appeal(as_committee(advocate), appeal, "upheld", "r", on=date(2015, 6, 1))


def test_r11_admits_an_independent_panel_member(ledger: Ledger) -> None:
    service = ledger.service
    _, appeal = revoked_and_appealed(service)
    service.decide_appeal(PANEL, appeal, "rejected", "not new", on=date(2015, 6, 1))
    assert service.appeal(appeal).panel_member == PANEL.id


# -- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.TUTOR])
def test_a_committee_or_tutor_token_without_a_person_cannot_be_created(
    ledger: Ledger, role: Role
) -> None:
    db = Database(ledger.settings)
    try:
        tokens = TokenStore(db)
        with pytest.raises(TokenError, match=f"a {role} token must name the person"):
            tokens.create(f"no-person-{role}", role)
        assert tokens.list() == []
        with pytest.raises(TokenError, match="is not a person id"):
            tokens.create(f"bad-person-{role}", role, "bo")
    finally:
        db.close()


def test_a_committee_token_acts_as_its_person_in_canonical_form(ledger: Ledger) -> None:
    db = Database(ledger.settings)
    try:
        tokens = TokenStore(db)
        person = "0F8FAD5B-D9CB-469F-A165-70867728950E"
        token = tokens.create("bo", Role.COMMITTEE, person)
        found = tokens.authenticate(token)
        assert found is not None
        assert found.actor == Actor(person.lower(), Role.COMMITTEE)
    finally:
        db.close()
