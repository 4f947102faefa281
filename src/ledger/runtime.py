"""Wiring: the one place where settings become a running ledger (store, log, service)."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.clock import Clock, SystemClock
from ledger.config import Settings
from ledger.db import Database, schema_lock
from ledger.log.public import PublicLog
from ledger.log.sequencer import CheckpointPolicy, Sequencer
from ledger.log.storage import LogStorage, open_log_storage
from ledger.service import LedgerService
from ledger.store.application import Store, open_store
from ledger.views.queries import Queries
from ledger.views.runner import ProjectionRunner


@dataclass
class Runtime:
    settings: Settings
    store: Store
    log_storage: LogStorage
    service: LedgerService
    sequencer: Sequencer
    clock: Clock
    db: Database
    runner: ProjectionRunner
    queries: Queries

    @property
    def public_log(self) -> PublicLog:
        return PublicLog(self.log_storage, self.store.signing.keyring)

    def catch_up(self) -> None:
        """Sequence and checkpoint everything committed, and bring every projection up to date."""
        self.sequencer.catch_up()
        self.runner.catch_up()

    def close(self) -> None:
        self.db.close()
        self.log_storage.close()
        self.store.close()


def open_runtime(
    settings: Settings,
    clock: Clock | None = None,
    policy: CheckpointPolicy | None = None,
    *,
    verify_all: bool = False,
) -> Runtime:
    clock = clock or SystemClock()
    policy = policy or CheckpointPolicy(
        every=settings.checkpoint_every, interval=settings.checkpoint_interval_ms / 1000
    )
    with schema_lock(settings):  # tables are created once, even by processes starting together
        store = open_store(settings, verify_all=verify_all)
        log_storage = open_log_storage(settings)
        db = Database(settings)
        runner = ProjectionRunner(db)
    return Runtime(
        settings=settings,
        store=store,
        log_storage=log_storage,
        service=LedgerService(store, store.person_keys, clock),
        sequencer=Sequencer(log_storage, store.signing, clock, policy),
        clock=clock,
        db=db,
        runner=runner,
        queries=Queries(db, store),
    )
