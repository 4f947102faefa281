"""The people directory on both backends: search without case or accents, type-ahead, possible
duplicates, erasure at once, an indexer that catches up, and a rebuild that changes nothing."""

from __future__ import annotations

import pytest

from ledger.db import Database
from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime
from ledger.search import indexer
from ledger.search.indexer import PeopleIndexer
from ledger.search.storage import IndexStorage
from ledger.service import LedgerService
from ledger.worker import BackgroundWorker
from tests.builders import REGISTRAR
from tests.conftest import Ledger

DPO = Actor("staff-dpo", Role.ADMIN)

PEOPLE = [
    ("Zuzana Hrušovská", "zuzana.hrusovska@example.org", "Ústav Regionálneho Rozvoja"),
    ("Hrušo Veselý", "hruso.vesely@example.org", "Agentúra Východ"),
    ("Ivana Hrušovskáová", "ivana.h@example.org", "Ústav Regionálneho Rozvoja"),
    ("Tomás Ferreiro Lago", "t.ferreiro@example.org", "Asociación Comarcal Lago"),
]


def register(service: LedgerService, name: str, email: str, organisation: str) -> str:
    return service.register_person(REGISTRAR, name, email, organisation, "Žilina", "Slovakia").id


def register_all(service: LedgerService) -> dict[str, str]:
    return {name: register(service, name, email, org) for name, email, org in PEOPLE}


def test_search_finds_a_person_without_case_or_accents_as_soon_as_registered(
    runtime: Runtime,
) -> None:
    ids = register_all(runtime.service)
    zuzana = ids["Zuzana Hrušovská"]
    for query in ("hrusovska", "Hrušovská", "HRUSOVSKA", "zuzana hrusovska"):
        assert runtime.people.search(query, 10)[0] == zuzana
    assert runtime.people.search("zuzana.hrusovska@example.org", 10) == [zuzana]
    assert runtime.people.search("Lago ferreiro", 10) == [ids["Tomás Ferreiro Lago"]]


def test_search_by_prefix_finds_every_person_whose_word_starts_so_whole_words_first(
    runtime: Runtime,
) -> None:
    ids = register_all(runtime.service)
    found = runtime.people.search("hruso", 10)
    assert found[0] == ids["Hrušo Veselý"]  # "Hrušo" is a whole word; the others a prefix
    assert set(found) == {ids["Zuzana Hrušovská"], ids["Hrušo Veselý"], ids["Ivana Hrušovskáová"]}
    assert runtime.people.search("hrusovska", 10) == [
        ids["Zuzana Hrušovská"],
        ids["Ivana Hrušovskáová"],
    ]
    assert set(runtime.people.search("ustav region", 10)) == {
        ids["Zuzana Hrušovská"],
        ids["Ivana Hrušovskáová"],
    }
    assert runtime.people.search("hr", 10) == []  # prefixes start at three characters
    assert len(runtime.people.search("hrus", 2)) == 2


def test_every_word_of_a_search_must_match(runtime: Runtime) -> None:
    ids = register_all(runtime.service)
    assert runtime.people.search("ivana hrus", 10) == [ids["Ivana Hrušovskáová"]]
    assert runtime.people.search("zuzana vesely", 10) == []
    assert runtime.people.search("", 10) == []


def test_possible_duplicates_are_the_same_email_or_the_same_name_and_organisation(
    runtime: Runtime,
) -> None:
    ids = register_all(runtime.service)
    zuzana = ids["Zuzana Hrušovská"]
    people = runtime.people
    assert people.duplicates("Z. H.", " ZUZANA.Hrusovska@example.org", "Elsewhere") == [zuzana]
    assert people.duplicates(
        "zuzana HRUSOVSKA", "zh@example.net", "ústav regionálneho rozvoja"
    ) == [zuzana]
    assert people.duplicates("Zuzana Hrušovská", "zh@example.net", "Another Agency") == []
    assert sorted(
        people.duplicates("Zuzana Hrušovská", "ivana.h@example.org", "Ústav Regionálneho Rozvoja")
    ) == sorted([zuzana, ids["Ivana Hrušovskáová"]])


def test_erasure_removes_the_person_from_search_and_duplicates_at_once(runtime: Runtime) -> None:
    ids = register_all(runtime.service)
    zuzana = ids["Zuzana Hrušovská"]
    runtime.service.erase_person(DPO, zuzana, "request")
    assert zuzana not in runtime.people.search("hrusovska", 10)
    assert runtime.people.search("zuzana", 10) == []
    name, email, organisation = PEOPLE[0]
    assert runtime.people.duplicates(name, email, organisation) == []
    assert runtime.people.search("ivana", 10) == [ids["Ivana Hrušovskáová"]]


def test_a_late_write_or_a_rebuild_does_not_bring_an_erased_person_back(
    runtime: Runtime,
) -> None:
    ids = register_all(runtime.service)
    zuzana = ids["Zuzana Hrušovská"]
    runtime.people.remove(zuzana)
    runtime.people.add(zuzana, *PEOPLE[0])  # an indexer that read her just before the erasure
    assert runtime.people.search("zuzana", 10) == []
    runtime.indexer.reindex()
    assert runtime.people.search("zuzana", 10) == []
    assert runtime.people.search("ivana", 10) == [ids["Ivana Hrušovskáová"]]


def test_the_indexer_catches_up_with_people_written_without_the_directory(
    ledger: Ledger, runtime: Runtime
) -> None:
    ids = register_all(ledger.service)  # a service without a directory, as an import writes
    ledger.service.erase_person(DPO, ids["Hrušo Veselý"], "request")
    assert runtime.people.search("hrusovska", 10) == []
    assert runtime.indexer.catch_up() > 0
    assert runtime.people.search("hrusovska", 10) == [
        ids["Zuzana Hrušovská"],
        ids["Ivana Hrušovskáová"],
    ]
    assert runtime.people.search("vesely", 10) == []
    assert runtime.indexer.run_once() == 0  # nothing new to read


def test_the_background_worker_indexes_people_written_elsewhere(
    ledger: Ledger, runtime: Runtime
) -> None:
    ids = register_all(ledger.service)
    worker = BackgroundWorker(runtime)
    worker.start()
    try:
        assert worker.caught_up.wait(60)
    finally:
        worker.stop()
    assert runtime.people.search("ferreiro", 10) == [ids["Tomás Ferreiro Lago"]]


def test_the_indexer_applies_an_erasure_made_without_the_directory(
    ledger: Ledger, runtime: Runtime
) -> None:
    ids = register_all(runtime.service)
    zuzana = ids["Zuzana Hrušovská"]
    runtime.indexer.catch_up()
    ledger.service.erase_person(DPO, zuzana, "request")
    runtime.indexer.catch_up()
    assert runtime.people.search("zuzana", 10) == []


def test_a_rebuilt_index_answers_as_the_one_it_replaces(ledger: Ledger, runtime: Runtime) -> None:
    register_all(ledger.service)
    kveta = register(runtime.service, "Květa Nováková", "kveta.n@example.org", "Obec Lúčky")
    runtime.indexer.catch_up()
    queries = ["hrus", "hrusovska", "ustav", "lago", "zuzana.hrusovska@example.org", "kveta"]
    before = {q: runtime.people.search(q, 20) for q in queries}
    assert before["kveta"] == [kveta]
    runtime.indexer.reindex()
    assert {q: runtime.people.search(q, 20) for q in queries} == before


def test_an_index_built_under_another_key_is_emptied_to_be_built_again(
    runtime: Runtime,
) -> None:
    register_all(runtime.service)
    runtime.indexer.catch_up()
    db = Database(runtime.settings)
    try:
        IndexStorage(db, "another key")
        assert runtime.people.storage.position() == 0
        assert runtime.people.search("hrusovska", 10) == []
    finally:
        db.close()


def test_the_index_holds_no_personal_text_in_clear(runtime: Runtime) -> None:
    register_all(runtime.service)
    with runtime.db.read() as tx:
        rows = tx.execute(
            f"SELECT token, person_id FROM {runtime.people.storage.tokens}"
        ).fetchall()
    assert rows
    stored = " ".join(f"{token} {person}" for token, person in rows).casefold()
    for name, email, organisation in PEOPLE:
        for text in (*name.split(), email, *organisation.split(), "hrusovska", "ustav"):
            assert text.casefold() not in stored


def test_an_erased_persons_tokens_are_gone_from_the_database_files(runtime: Runtime) -> None:
    ids = register_all(runtime.service)
    name, email, organisation = PEOPLE[0]
    others = {t for person in PEOPLE[1:] for t in runtime.people.tokens.of_person(*person)}
    # Prefixes a namesake shares stay, rightly: theirs.
    tokens = set(runtime.people.tokens.of_person(name, email, organisation)) - others
    assert len(tokens) > 5

    def on_disk() -> set[str]:
        if runtime.db.postgres:
            # Live rows, and the table's size in pages after the rewrite: dead rows are gone.
            with runtime.db.read() as tx:
                rows = tx.execute(f"SELECT token FROM {runtime.people.storage.tokens}").fetchall()
            return tokens & {str(row[0]) for row in rows}
        data = b"".join(
            path.read_bytes() for path in runtime.settings.data_dir.glob("ledger.sqlite*")
        )
        return {token for token in tokens if token.encode() in data}

    runtime.db.checkpoint_wal()
    assert on_disk() == tokens
    runtime.service.erase_person(DPO, ids[name], "request")
    assert on_disk() == set()


def test_prefetched_duplicates_answer_as_the_directory_does_and_forget_on_a_change(
    runtime: Runtime,
) -> None:
    ids = register_all(runtime.service)
    people = runtime.people
    asked = [
        ("Z. H.", " ZUZANA.Hrusovska@example.org", "Elsewhere"),
        ("zuzana HRUSOVSKA", "zh@example.net", "ústav regionálneho rozvoja"),
        ("Zuzana Hrušovská", "ivana.h@example.org", "Ústav Regionálneho Rozvoja"),
        ("Nobody Known", "nobody@example.org", "Nowhere"),
    ]
    plain = [people.duplicates(*row) for row in asked]
    assert plain[0] == [ids["Zuzana Hrušovská"]]
    assert plain[3] == []
    with people.prefetched(asked):
        people.storage.matching_any = None  # type: ignore[assignment,method-assign]
        try:  # answered from the one read made on entry, in the same order
            assert [people.duplicates(*row) for row in asked] == plain
        finally:
            del people.storage.matching_any
        # a row not prefetched reads as usual
        assert people.duplicates("Tomás Ferreiro Lago", "", "Asociación Comarcal Lago") == [
            ids["Tomás Ferreiro Lago"]
        ]
        # a change to the directory ends the prefetched answers: none goes stale
        newcomer = register(runtime.service, "Nobody Known", "nobody@example.org", "Nowhere")
        assert people.duplicates(*asked[3]) == [newcomer]
    assert people.duplicates(*asked[3]) == [newcomer]


def test_the_indexer_stores_its_position_with_people_not_after_every_batch(
    ledger: Ledger, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events that index nobody need no write of the indexer's position (it keeps where it
    read in memory, and writes it once in a while); people indexed do. An indexer started
    afresh (a restart) reads those events again from the stored position, and indexes the
    same."""
    monkeypatch.setattr(indexer, "STORE_EVERY_S", 3600.0)  # no write for the time passed
    ids = register_all(ledger.service)
    assert runtime.indexer.catch_up() > 0
    stored = runtime.people.storage.position()
    assert stored > 0
    today = runtime.clock.now().date()
    for participants in (8, 9, 10):
        runtime.service.record_course(
            REGISTRAR, ids["Zuzana Hrušovská"], today, "Žilina", participants
        )
    assert runtime.indexer.run_once() == 3
    assert runtime.people.storage.position() == stored  # nothing indexed, nothing written

    fresh = PeopleIndexer(runtime.db, runtime.indexer.people, runtime.indexer.directory)
    assert fresh.run_once() == 3  # read again after a restart: they index nobody
    # Caught up (nothing more to read), the position read is stored, once.
    assert runtime.indexer.run_once() == 0
    caught_up = runtime.people.storage.position()
    assert caught_up > stored
    assert fresh.run_once() == 0  # the fresh one finds it stored: nothing to read again
    stored = caught_up
    kveta = register(ledger.service, "Květa Nováková", "kveta.n@example.org", "Obec Lúčky")
    assert fresh.run_once() == 1
    assert runtime.people.storage.position() > stored  # written with the person indexed
    assert runtime.people.search("kveta", 10) == [kveta]
    assert runtime.people.search("hrusovska", 10) == [
        ids["Zuzana Hrušovská"],
        ids["Ivana Hrušovskáová"],
    ]
    # Emptied elsewhere (as `ledger keys restore-data-keys` does): read again from the first.
    runtime.people.storage.clear()
    assert runtime.indexer.catch_up() > 3
    assert runtime.people.search("kveta", 10) == [kveta]


def test_the_indexer_stores_its_position_once_in_a_while_without_people(
    ledger: Ledger, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = register_all(ledger.service)
    runtime.indexer.catch_up()
    stored = runtime.people.storage.position()
    monkeypatch.setattr(indexer, "STORE_EVERY_S", 0.0)  # the while has passed
    runtime.service.record_course(
        REGISTRAR, ids["Hrušo Veselý"], runtime.clock.now().date(), "Žilina", 9
    )
    assert runtime.indexer.run_once() == 1
    assert runtime.people.storage.position() > stored
