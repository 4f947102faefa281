"""The people indexer catching up with a whole ledger does not fill the store's aggregate cache:
its memory stays flat however many people the ledger holds (both backends)."""

from __future__ import annotations

from uuid import UUID

from ledger.runtime import Runtime
from tests.builders import REGISTRAR
from tests.conftest import Ledger


def cached(runtime: Runtime, person_id: str) -> bool:
    cache = runtime.store.app.repository.cache
    assert cache is not None
    try:
        cache.get(UUID(person_id))
    except KeyError:
        return False
    return True


def test_catching_up_indexes_every_person_and_caches_none_of_them(
    ledger: Ledger, runtime: Runtime
) -> None:
    # Written by another store (as an import or another process writes): not in this one's cache.
    ids = [
        ledger.service.register_person(
            REGISTRAR, f"Vesna Kovač {n}", f"v{n}@example.org", "Ured", "Split", "Croatia"
        ).id
        for n in range(12)
    ]
    assert runtime.indexer.catch_up() > 0
    assert sorted(runtime.people.search("kovac", 50)) == sorted(ids)
    assert [i for i in ids if cached(runtime, i)] == []


def test_a_person_cached_by_a_command_stays_cached_when_the_indexer_reads_them(
    runtime: Runtime,
) -> None:
    person = runtime.service.register_person(
        REGISTRAR, "Aino Virtanen", "aino@example.org", "Liitto", "Oulu", "Finland"
    )
    assert cached(runtime, person.id)  # the service's own write caches the aggregate
    assert runtime.indexer.catch_up() > 0  # reads the person's registration again
    assert runtime.people.search("virtanen", 5) == [person.id]
    assert cached(runtime, person.id)
