"""Bulk commands and batches: all or nothing, every refusal listed, a re-run appends nothing;
possible duplicates at registration; tutors recording attendance where the policy lets them.
Through the service layer on both backends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.enrolment import enrolment_id
from ledger.domain.errors import (
    BatchRefused,
    Conflict,
    InvalidCommand,
    NotFound,
    PossibleDuplicate,
    RuleViolation,
)
from ledger.domain.folding import fold, fold_email
from ledger.service import LedgerService
from tests.builders import (
    PROGRAMME_START,
    REGISTRAR,
    ScannedLookups,
    cohort,
    open_programme,
    register,
    with_lookups,
)
from tests.conftest import Ledger

ADMIN = Actor("admin-eve", Role.ADMIN)


class FakeDirectory:
    """`ledger.service.PeopleDirectory` in memory, for the service's duplicate logic only."""

    def __init__(self) -> None:
        self.people: dict[str, tuple[str, str, str]] = {}

    def add(self, person_id: str, name: str, email: str, organisation: str) -> None:
        self.people[person_id] = (fold(name), fold_email(email), fold(organisation))

    def add_many(self, people: Iterable[tuple[str, str, str, str]]) -> list[str]:
        listed = list(people)
        for person_id, name, email, organisation in listed:
            self.add(person_id, name, email, organisation)
        return [person_id for person_id, *_ in listed]

    def remove(self, person_id: str) -> None:
        self.people.pop(person_id, None)

    def duplicates(self, name: str, email: str, organisation: str) -> list[str]:
        return [
            ident
            for ident, (n, e, o) in self.people.items()
            if e == fold_email(email) or (n, o) == (fold(name), fold(organisation))
        ]

    def search(self, query: str, limit: int) -> list[str]:
        return [i for i, (n, _, _) in self.people.items() if fold(query) in n][:limit]


def written(ledger: Ledger) -> int:
    return ledger.store.app.recorder.max_notification_id() or 0


def people(service: LedgerService, count: int, programme: str | None = None) -> list[str]:
    found = [register(service, f"Person {n} Example", f"Agency {n}") for n in range(count)]
    if programme is not None:
        for person in found:
            service.enrol(REGISTRAR, programme, person)
    return found


# -- week attendance ---------------------------------------------------------------------------


def test_a_week_s_attendance_for_everyone_is_one_save_with_an_event_each(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service)
    group = people(service, 4, programme)
    entries = [(p, n != 2) for n, p in enumerate(group)]
    receipt = service.record_week_attendance(REGISTRAR, programme, 1, entries)
    assert receipt.id == programme
    assert len(receipt.positions) == 4
    assert [service.enrolment(programme, p).attendance[1].attended for p in group] == [
        True,
        True,
        False,
        True,
    ]


def test_recording_the_same_week_again_appends_nothing(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service)
    group = people(service, 3, programme)
    entries = [(p, True) for p in group]
    service.record_week_attendance(REGISTRAR, programme, 2, entries)
    before = written(ledger)
    assert service.record_week_attendance(REGISTRAR, programme, 2, entries).positions == ()
    assert written(ledger) == before


def test_one_refused_entry_writes_nothing_and_every_refused_entry_is_listed(
    ledger: Ledger,
) -> None:
    service = ledger.service
    programme = open_programme(service)
    group = people(service, 3, programme)
    stranger = register(service, "Not Enrolled", "Agency X")
    service.record_attendance(REGISTRAR, programme, group[1], 3, True)
    before = written(ledger)
    entries = [(group[0], True), (group[1], False), (stranger, True), ("nope", True)]
    with pytest.raises(BatchRefused) as caught:
        service.record_week_attendance(REGISTRAR, programme, 3, entries)
    problems = dict(caught.value.problems)
    assert list(problems) == [group[1], stranger, "nope"]
    assert isinstance(problems[group[1]], Conflict)
    assert isinstance(problems[stranger], NotFound)
    assert isinstance(problems["nope"], InvalidCommand)
    assert written(ledger) == before
    assert 3 not in service.enrolment(programme, group[0]).attendance


def test_a_week_not_scheduled_refuses_the_whole_request(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service, weeks=2)
    group = people(service, 1, programme)
    with pytest.raises(InvalidCommand, match="week 4 is not scheduled"):
        service.record_week_attendance(REGISTRAR, programme, 4, [(group[0], True)])


# -- enrolling many ----------------------------------------------------------------------------


def test_enrolling_many_is_one_save_and_a_re_run_appends_nothing(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service)
    group = people(service, 3)
    receipt = service.enrol_many(REGISTRAR, programme, [(p, "CIP Call") for p in group])
    assert len(receipt.positions) == 3
    assert {service.enrolment(programme, p).consortium for p in group} == {"CIP Call"}
    before = written(ledger)
    again = service.enrol_many(REGISTRAR, programme, [(p, None) for p in [*group, group[0]]])
    assert again.positions == ()
    assert written(ledger) == before


def test_enrolling_many_with_refused_people_writes_nothing_and_lists_them(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service)
    group = people(service, 2)
    missing = "00000000-0000-0000-0000-000000000000"
    before = written(ledger)
    with pytest.raises(BatchRefused) as caught:
        service.enrol_many(REGISTRAR, programme, [(group[0], None), (missing, None), ("x", None)])
    assert [label for label, _ in caught.value.problems] == [missing, "x"]
    assert written(ledger) == before
    with pytest.raises(NotFound):
        service.enrolment(programme, group[0])


# -- batches -----------------------------------------------------------------------------------


def test_a_batch_sees_its_own_work_and_writes_it_in_one_save_at_commit(ledger: Ledger) -> None:
    service = ledger.service
    programme = open_programme(service)
    batch = service.batch()
    person = register(batch.service, "Batch Example", "Agency B")
    batch.service.enrol(REGISTRAR, programme, person)
    batch.service.record_attendance(REGISTRAR, programme, person, 1, True)
    with pytest.raises(NotFound):
        service.person(person)
    receipt = batch.commit("import")
    assert receipt.id == "import"
    assert receipt.positions == tuple(range(receipt.positions[0], receipt.positions[0] + 3))
    assert service.enrolment(programme, person).weeks_attended == 1
    with pytest.raises(Conflict, match="already committed"):
        batch.commit()


def test_a_batch_dropped_without_commit_writes_nothing(ledger: Ledger) -> None:
    service = ledger.service
    before = written(ledger)
    batch = service.batch()
    person = register(batch.service, "Dry Run", "Agency D")
    assert batch.service.person(person).name == "Dry Run"
    del batch
    assert written(ledger) == before


def test_erasure_is_refused_inside_a_batch(ledger: Ledger) -> None:
    person = register(ledger.service, "Kept Example", "Agency K")
    batch = ledger.service.batch()
    with pytest.raises(Conflict, match="cannot be part of a batch"):
        batch.service.erase_person(ADMIN, person, "request")
    assert not ledger.service.person(person).erased


# -- possible duplicates -----------------------------------------------------------------------


def directory_service(ledger: Ledger, directory: FakeDirectory) -> LedgerService:
    return LedgerService(ledger.store, ledger.store.person_keys, ledger.clock, people=directory)


def test_a_second_registration_of_an_email_names_the_match_and_needs_confirmation(
    ledger: Ledger,
) -> None:
    directory = FakeDirectory()
    service = directory_service(ledger, directory)
    first = service.register_person(
        REGISTRAR, "Zuzana Hrušovská", "zuzana@example.org", "Agency Z", "Bratislava", "Slovakia"
    ).id
    assert first in directory.people
    before = written(ledger)
    with pytest.raises(PossibleDuplicate) as caught:
        service.register_person(
            REGISTRAR, "Z. Hrusovska", " ZUZANA@example.org", "Other", "Bratislava", "Slovakia"
        )
    assert caught.value.matches == (first,)
    assert written(ledger) == before
    second = service.register_person(
        REGISTRAR,
        "Z. Hrusovska",
        "zuzana@example.org",
        "Other",
        "Bratislava",
        "Slovakia",
        confirm_duplicate=True,
    ).id
    assert second != first


def test_a_same_name_and_organisation_is_a_possible_duplicate_but_an_erased_one_is_not(
    ledger: Ledger,
) -> None:
    directory = FakeDirectory()
    service = directory_service(ledger, directory)
    erased = register(service, "Ana Example", "Agency A")
    service.erase_person(ADMIN, erased, "request")
    assert erased not in directory.people
    directory.add(erased, "Ana Example", "stale@example.org", "Agency A")  # a stale index entry
    kept = service.register_person(
        REGISTRAR, "Ana Example", "ana2@example.org", "Agency A", "Cantabria", "Spain"
    ).id
    with pytest.raises(PossibleDuplicate) as caught:
        service.register_person(
            REGISTRAR, "ANA  EXAMPLE", "ana3@example.org", "agency a", "Cantabria", "Spain"
        )
    assert caught.value.matches == (kept,)


def test_a_duplicate_names_the_person_kept(ledger: Ledger) -> None:
    directory = FakeDirectory()
    service = LedgerService(
        ledger.store,
        ledger.store.person_keys,
        ledger.clock,
        people=directory,
        lookups=ScannedLookups(ledger.store),
    )
    kept = register(service, "Ivo Example", "Agency I")
    duplicate = service.register_person(
        REGISTRAR, "Ivo Example", "ivo2@example.org", "Agency I", "R", "C", confirm_duplicate=True
    ).id
    service.mark_duplicate(REGISTRAR, duplicate, kept, "registered twice")
    assert service.possible_duplicates("Ivo Example", "x@example.org", "Agency I") == (kept,)


def test_rows_of_one_batch_that_match_each_other_are_caught_and_enter_the_directory_at_commit(
    ledger: Ledger,
) -> None:
    directory = FakeDirectory()
    service = directory_service(ledger, directory)
    batch = service.batch()
    first = batch.service.register_person(
        REGISTRAR, "Lea Example", "lea@example.org", "Agency L", "R", "C"
    ).id
    with pytest.raises(PossibleDuplicate) as caught:
        batch.service.register_person(
            REGISTRAR, "Léa Example", "lea@example.org", "Agency L", "R", "C"
        )
    assert caught.value.matches == (first,)
    assert directory.people == {}
    batch.commit()
    assert list(directory.people) == [first]


# -- tutors recording attendance ---------------------------------------------------------------


def tutored(ledger: Ledger, tutors_record: int) -> tuple[LedgerService, str, str, Actor]:
    service = with_lookups(ledger.store, ledger.service)
    programme = service.open_programme(
        REGISTRAR,
        "A programme",
        PROGRAMME_START,
        date(2013, 7, 31),
        "ECEI-2012",
        policy={"tutors_record_attendance": tutors_record},
    ).id
    service.schedule_week(
        REGISTRAR, programme, 1, PROGRAMME_START, date(2012, 12, 7), "Linz", ["Module 1"]
    )
    project = service.register_project(REGISTRAR, programme, "Wicker", "Wicker", "R", "C").id
    tutor = register(service, "Tutor Example", "Foundation")
    service.assign_tutor(REGISTRAR, project, tutor)
    (person,) = people(service, 1, programme)
    return service, programme, person, Actor(tutor, Role.TUTOR)


def test_a_tutor_records_attendance_for_their_programme_where_the_policy_allows(
    ledger: Ledger,
) -> None:
    service, programme, person, tutor = tutored(ledger, 1)
    receipt = service.record_week_attendance(tutor, programme, 1, [(person, True)])
    assert len(receipt.positions) == 1
    assert service.enrolment(programme, person).attendance[1].recorded_by == tutor.id


def test_a_tutor_is_refused_where_the_policy_does_not_allow_it(ledger: Ledger) -> None:
    service, programme, person, tutor = tutored(ledger, 0)
    with pytest.raises(RuleViolation, match=r"^POLICY: tutors may not record attendance in this"):
        service.record_attendance(tutor, programme, person, 1, True)


def test_a_tutor_of_another_programme_is_refused(ledger: Ledger) -> None:
    service, programme, person, _ = tutored(ledger, 1)
    group = cohort(service, members=0)
    with pytest.raises(RuleViolation, match="^POLICY: tutors record attendance only for their own"):
        service.record_week_attendance(group.tutor, programme, 1, [(person, True)])


def test_tutors_recording_attendance_is_a_policy_parameter_of_0_or_1(ledger: Ledger) -> None:
    with pytest.raises(InvalidCommand, match="^policy.tutors_record_attendance: must be 0 or 1"):
        ledger.service.open_programme(
            REGISTRAR,
            "P",
            PROGRAMME_START,
            date(2013, 7, 31),
            "ECEI-2012",
            policy={"tutors_record_attendance": 2},
        )


def test_a_batch_told_an_aggregate_is_not_stored_does_not_ask_and_conflicts_if_told_wrong(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = ledger.service
    programme = open_programme(service)
    enrolled = register(service, "Stored Enrolment", "Agency S")
    service.enrol(REGISTRAR, programme, enrolled)
    before = written(ledger)
    asked: list[UUID] = []
    real_exists = ledger.store.exists
    monkeypatch.setattr(
        ledger.store, "exists", lambda ident: asked.append(ident) or real_exists(ident)
    )
    batch = service.batch()
    ident = enrolment_id(UUID(programme), UUID(enrolled))
    batch.not_stored(ident)  # wrong on purpose: this enrolment is stored
    batch.service.enrol(REGISTRAR, programme, enrolled)
    assert ident not in asked
    with pytest.raises(Conflict):
        batch.commit("wrongly-told")
    assert written(ledger) == before
    assert service.enrolment(programme, enrolled).version == 1
