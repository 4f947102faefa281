"""A page of people is read together: one read of their records and one of their data keys,
with every check a read of one person makes."""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.errors import NotFound
from ledger.domain.person import ERASED, Person
from ledger.integrity.errors import RecordIntegrityError
from ledger.runtime import Runtime
from ledger.service import LedgerService
from ledger.store.application import open_store
from tests.builders import REGISTRAR, register
from tests.conftest import Ledger
from tests.rawsql import RawEvents

DPO = Actor("staff-dpo", Role.ADMIN)


def card(person: object) -> tuple[object, ...]:
    return tuple(
        getattr(person, name)
        for name in ("id", "version", "name", "email", "organisation", "region", "erased")
    )


@pytest.fixture
def three(ledger: Ledger) -> list[str]:
    """Three people: one as registered, one with a second record, one erased."""
    service = ledger.service
    ids = [
        register(service, "Zuzana Hrušovská", "Ústav Regionálneho Rozvoja"),
        register(service, "Lucía Ferreiro", "Asociación Comarcal del Valle"),
        register(service, "Marek Dvořák", "Fundacja Rozwoju Wsi"),
    ]
    service.set_name_hidden(REGISTRAR, ids[1], True)
    service.erase_person(DPO, ids[2], "request")
    return ids


def fresh_service(ledger: Ledger) -> tuple[LedgerService, object]:
    """A service over a newly opened store, as another process reads: nothing cached."""
    store = open_store(ledger.settings)
    return LedgerService(store, store.person_keys, ledger.clock), store


def test_people_read_together_are_the_people_read_one_by_one(
    ledger: Ledger, three: list[str]
) -> None:
    service, store = fresh_service(ledger)
    try:
        together = service.persons(three)
        assert list(together) == three
        assert [card(together[p]) for p in three] == [card(service.person(p)) for p in three]
        assert together[three[0]].name == "Zuzana Hrušovská"
        assert together[three[1]].version == 2
        assert together[three[2]].name == ERASED
    finally:
        store.close()  # type: ignore[attr-defined]


def test_a_page_of_people_takes_one_read_of_records_and_one_of_keys(
    ledger: Ledger, three: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, store = fresh_service(ledger)
    try:
        recorder = store.app.recorder  # type: ignore[attr-defined]
        keys = store.person_keys  # type: ignore[attr-defined]
        calls: list[str] = []

        def counted(owner: object, name: str) -> None:
            method = getattr(owner, name)

            def spy(*args: object, **kwargs: object) -> object:
                calls.append(name)
                return method(*args, **kwargs)

            monkeypatch.setattr(owner, name, spy)

        for name in ("select_events", "select_streams"):
            counted(recorder, name)
        counted(keys, "_load_many")
        service.persons(three)
        assert sorted(calls) == ["_load_many", "select_streams"]
    finally:
        store.close()  # type: ignore[attr-defined]


def test_reading_people_together_names_the_first_missing(ledger: Ledger, three: list[str]) -> None:
    stranger = str(uuid.uuid4())
    with pytest.raises(NotFound) as caught:
        ledger.service.persons([three[0], stranger, three[1]])
    assert stranger in str(caught.value)


def test_an_altered_record_is_found_when_read_with_others(ledger: Ledger, three: list[str]) -> None:
    raw, stream = RawEvents(ledger.settings), UUID(three[1])
    state = raw.state(stream, 1)
    assert b'"region":"Cantabria"' in state
    raw.set_state(stream, 1, state.replace(b'"region":"Cantabria"', b'"region":"Cantabrio"'))
    service, store = fresh_service(ledger)
    try:
        with pytest.raises(RecordIntegrityError) as caught:
            service.persons(three)
        assert (caught.value.stream, caught.value.version) == (three[1], 1)
    finally:
        store.close()  # type: ignore[attr-defined]


def test_a_batch_reads_its_own_new_people_with_the_stored_ones(
    ledger: Ledger, three: list[str]
) -> None:
    batch = ledger.service.batch()
    added = register(batch.service, "Ana Lagoa", "Agência de Desenvolvimento Local")
    together = batch.service.persons([three[0], added])
    assert [together[three[0]].name, together[added].name] == ["Zuzana Hrušovská", "Ana Lagoa"]
    with pytest.raises(NotFound):
        ledger.service.person(added)  # not committed: only the batch knows it


def test_the_indexer_leaves_out_a_person_who_cannot_be_read_and_indexes_the_others(
    ledger: Ledger, three: list[str], runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "ledger.search")
    raw, stream = RawEvents(ledger.settings), UUID(three[1])
    state = raw.state(stream, 1)
    raw.set_state(stream, 1, state.replace(b'"region":"Cantabria"', b'"region":"Cantabrio"'))
    store = runtime.store
    readable = store.get_many("person", [UUID(p) for p in three], Person, readable_only=True)
    assert sorted(str(p) for p in readable) == sorted([three[0], three[2]])
    runtime.indexer.reindex()
    assert runtime.people.search("hrusovska", 5) == [three[0]]
    assert runtime.people.search("ferreiro", 5) == []  # altered: not read, not indexed
    assert runtime.people.search("dvorak", 5) == []  # erased: never indexed again
    said = [r for r in caplog.records if "not indexed" in r.getMessage()]
    assert [(r.levelno, r.getMessage()[:32]) for r in said] == [
        (logging.WARNING, "1 people not indexed: their reco")
    ]
    runtime.indexer.reindex()  # meets the same person again: counted, not said again
    assert runtime.indexer.unreadable == 2
    assert len([r for r in caplog.records if "not indexed" in r.getMessage()]) == 1
