"""Two writers of conflicting commands: exactly one wins, the other gets a conflict."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain.certificates import certificate_stream
from ledger.domain.errors import Conflict
from ledger.service import LedgerService
from ledger.store.application import Store, open_store
from ledger.store.repository import LockedCopyRepository
from tests.builders import COMMITTEE, REGISTRAR, licensed
from tests.conftest import Ledger
from tests.rawsql import RawEvents


class SaveAfterBarrier:
    """The real store, except that `save` waits until both writers have loaded their state."""

    def __init__(self, store: Store, barrier: threading.Barrier) -> None:
        self.store = store
        self.barrier = barrier

    def get(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any:
        return self.store.get(kind, aggregate_id, cls)

    def exists(self, aggregate_id: UUID) -> bool:
        return self.store.exists(aggregate_id)

    def save(self, *aggregates: Any) -> list[int]:
        self.barrier.wait(timeout=30)
        return self.store.save(*aggregates)


def test_two_concurrent_conflicting_writers_one_wins_one_conflicts(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    raw = RawEvents(ledger.settings)
    rows_before = raw.count()
    barrier = threading.Barrier(2)
    stores = [open_store(ledger.settings) for _ in range(2)]
    outcomes: dict[str, object] = {}

    def write(name: str, store: Store, reason: str, until: date) -> None:
        service = LedgerService(SaveAfterBarrier(store, barrier), store.person_keys, ledger.clock)
        try:
            outcomes[name] = service.suspend_licence(
                COMMITTEE, licence_id, reason, until, on=date(2015, 1, 10)
            )
        except Conflict as exc:
            outcomes[name] = exc

    threads = [
        threading.Thread(target=write, args=("a", stores[0], "complaint A", date(2015, 2, 1))),
        threading.Thread(target=write, args=("b", stores[1], "complaint B", date(2015, 3, 1))),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for store in stores:
            store.close()

    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    assert len(outcomes) == 2
    assert len(conflicts) == 1
    assert raw.count() == rows_before + 1
    licence = ledger.service.licence(licence_id)
    assert licence.version == 2
    winner = "complaint A" if not isinstance(outcomes["a"], Conflict) else "complaint B"
    assert licence.suspensions[0].reason == winner
    assert raw.state(certificate_stream(licence_id), 2)


def test_a_store_sees_another_stores_write_after_caching_its_own(ledger: Ledger) -> None:
    """Each store caches what it saves; a later read still fast-forwards past records that
    another process wrote since, chained to the cached head."""
    first, second = open_store(ledger.settings), open_store(ledger.settings)
    try:
        one = LedgerService(first, first.person_keys, ledger.clock)
        two = LedgerService(second, second.person_keys, ledger.clock)
        person = one.register_person(REGISTRAR, "Ada Example", "ada@example.org", "O", "R", "C")
        one.record_course(REGISTRAR, person.id, date(2014, 3, 1), "R", 9)
        two.record_course(REGISTRAR, person.id, date(2014, 4, 1), "R", 10)
        one.record_course(REGISTRAR, person.id, date(2014, 5, 1), "R", 11)
        for service in (one, two):
            seen = service.person(str(person.id))
            assert seen.version == 4
            assert [d.delivered_on.month for d in seen.deliveries] == [3, 4, 5]
    finally:
        first.close()
        second.close()


def test_a_cached_aggregate_is_brought_up_to_date_and_copied_under_its_ids_lock(
    ledger: Ledger,
) -> None:
    """A command's read of a cached aggregate (fast-forward, then copy) waits while the lock its
    id falls on is held, and goes on once it is released; no lock is kept per aggregate."""
    store = open_store(ledger.settings)
    try:
        service = LedgerService(store, store.person_keys, ledger.clock)
        person = service.register_person(REGISTRAR, "Ada Example", "ada@example.org", "O", "R", "C")
        service.record_course(REGISTRAR, person.id, date(2014, 3, 1), "R", 9)
        repository = store.app.repository
        assert isinstance(repository, LockedCopyRepository)
        ident = UUID(person.id)
        lock = repository._use_fastforward_lock(ident)
        assert lock is repository._use_fastforward_lock(
            UUID(person.id)
        )  # the same lock for the same id
        read: list[Any] = []
        with lock:
            reader = threading.Thread(target=lambda: read.append(service.person(str(person.id))))
            reader.start()
            reader.join(timeout=0.3)
            assert reader.is_alive()  # waiting for the lock
            assert not read
        reader.join(timeout=30)
        assert [d.delivered_on.month for d in read[0].deliveries] == [3]
        assert not repository._fastforward_locks_inuse
    finally:
        store.close()
