"""A trainer's whole path through the service layer, read back by a fresh store on both backends."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import Conflict, InvalidCommand, NotFound
from ledger.service import LedgerService
from ledger.store.application import open_store
from tests.builders import COMMITTEE, PANEL, REGISTRAR, licensed
from tests.conftest import Ledger


def test_the_whole_path_is_recorded_signed_and_read_back(ledger: Ledger) -> None:
    service = ledger.service
    group, licence_id = licensed(service)
    trainer = group.members[0]
    service.record_course(
        REGISTRAR, trainer, date(2014, 9, 1), "Cantabria", 20, full_programme=True
    )
    service.record_course(REGISTRAR, trainer, date(2015, 6, 1), "Asturias", 11)
    service.suspend_licence(
        COMMITTEE, licence_id, "complaint", date(2015, 3, 1), on=date(2015, 1, 5)
    )
    service.reinstate_licence(COMMITTEE, licence_id, on=date(2015, 2, 1))
    instructor = service.certify_instructor(COMMITTEE, licence_id, on=date(2015, 4, 1)).id
    service.renew_licence(COMMITTEE, licence_id, on=date(2016, 1, 15))
    service.revoke_licence(
        COMMITTEE, licence_id, "breach of the code of conduct", on=date(2016, 9, 1)
    )
    decision = service.licence(licence_id).decisions[-1]
    appeal = service.lodge_appeal(
        REGISTRAR, licence_id, decision.version, "disputed", on=date(2016, 9, 20)
    ).id
    service.decide_appeal(PANEL, appeal, "rejected", "facts confirmed", on=date(2016, 10, 15))
    service.revoke_instructor(COMMITTEE, instructor, "licence revoked", on=date(2016, 9, 2))

    store = open_store(ledger.settings, verify_all=True)
    try:
        again = LedgerService(store, store.person_keys, ledger.clock)
        licence = again.licence(licence_id)
        assert [
            licence.status_on(d)
            for d in (date(2014, 3, 3), date(2015, 1, 20), date(2016, 8, 31), date(2016, 9, 1))
        ] == [
            "valid",
            "suspended",
            "valid",
            "revoked",
        ]
        assert licence.valid_until == date(2018, 3, 2)
        assert again.instructor(instructor).status_on(date(2016, 1, 1)) == "valid"
        assert again.appeal(appeal).outcome == "rejected"
        person = again.person(trainer)
        assert (person.name, len(person.deliveries), person.full_programmes) == (
            "Member 0 Example",
            3,
            1,
        )
        enrolment = again.enrolment(group.programme_id, trainer)
        assert enrolment.weeks_attended == 6
        assert enrolment.certificate_id
        stream = list(store.app.events.get(UUID(str(licence.id))))
        assert [type(e).TOPIC for e in stream] == [
            "certificate.licence_granted",
            "certificate.licence_suspended",
            "certificate.licence_reinstated",
            "certificate.licence_renewed",
            "certificate.licence_revoked",
        ]
        first = stream[0]
        assert (first.actor, first.role, first.effective_on) == (
            "committee-bo",
            "committee",
            date(2014, 3, 3),
        )
        assert first.timestamp == ledger.clock.now()
    finally:
        store.close()


def test_events_recorded_on_their_own_date_carry_no_separate_valid_time(ledger: Ledger) -> None:
    person = ledger.service.register_person(
        REGISTRAR, "Ines Example", "ines@example.org", "Agency", "Galicia", "Spain"
    ).id
    ledger.service.record_course(REGISTRAR, person, ledger.clock.now().date(), "Galicia", 5)
    event = list(ledger.store.app.events.get(UUID(person)))[-1]
    assert event.effective_on is None


def test_dates_in_the_future_are_refused(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    with pytest.raises(InvalidCommand, match="^on: 2030-01-01 is in the future"):
        ledger.service.revoke_licence(COMMITTEE, licence_id, "x", on=date(2030, 1, 1))


def test_unknown_ids_and_malformed_input_are_named(ledger: Ledger) -> None:
    with pytest.raises(NotFound, match="no person"):
        ledger.service.person("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidCommand, match="^person_id: 'nope' is not an id"):
        ledger.service.person("nope")
    with pytest.raises(InvalidCommand, match="^certificate_id: 'LT-0000' is not a certificate id"):
        ledger.service.licence("LT-0000")
    with pytest.raises(InvalidCommand, match="^email: is not an email address"):
        ledger.service.register_person(REGISTRAR, "N", "no-at-sign", "O", "R", "C")


def test_a_typed_certificate_id_with_a_typo_is_caught_by_its_check_character(
    ledger: Ledger,
) -> None:
    _, licence_id = licensed(ledger.service)
    assert ledger.service.licence(licence_id.lower().replace("-", " ")).certificate_id == licence_id
    body = licence_id[3:].replace("-", "")
    typo = ("Z" if body[4] != "Z" else "Y") + body[5:]
    with pytest.raises(InvalidCommand, match="wrong check character"):
        ledger.service.licence("LT-" + body[:4] + typo)


def test_a_second_enrolment_in_the_same_programme_is_a_conflict(ledger: Ledger) -> None:
    group, _ = licensed(ledger.service)
    with pytest.raises(Conflict, match="already enrolled"):
        ledger.service.enrol(REGISTRAR, group.programme_id, group.members[0])


def test_an_erased_person_gets_no_new_personal_history(ledger: Ledger) -> None:
    person = ledger.service.register_person(
        REGISTRAR, "Olaf Example", "olaf@example.org", "Agency", "Akureyri", "Iceland"
    ).id
    ledger.service.erase_person(Actor("admin-eve", Role.ADMIN), person, "request")
    with pytest.raises(Conflict, match="erased"):
        ledger.service.record_course(REGISTRAR, person, ledger.clock.now().date(), "Akureyri", 4)
