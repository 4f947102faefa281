"""Wiring: the one place where settings become a running ledger (store, log, service)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.clock import Clock, SystemClock
from ledger.config import Settings
from ledger.db import Database, schema_lock
from ledger.integrity.key_files import require_private_keys
from ledger.integrity.trust_root import TrustRoot
from ledger.integrity.witness_policy import load_witness_policy
from ledger.log.public import PublicLog
from ledger.log.sequencer import CheckpointPolicy, Sequencer
from ledger.log.storage import LogStorage, open_log_storage
from ledger.log.witnessing import Witnessing
from ledger.search import BlindDirectory, PeopleIndexer, open_directory
from ledger.service import LedgerService
from ledger.store import key_history
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
    people: BlindDirectory
    indexer: PeopleIndexer
    _trust_root: TrustRoot | None = field(default=None, init=False, repr=False)
    witnessing: Witnessing | None = None

    @property
    def public_log(self) -> PublicLog:
        return PublicLog(self.log_storage, self.store.signing.keyring)

    def trust_root(self) -> TrustRoot:
        """This ledger's trust root (computed once: the genesis never changes)."""
        if self._trust_root is None:
            self._trust_root = key_history.trust_root(self.store)
        return self._trust_root

    def catch_up(self) -> None:
        """Sequence and checkpoint everything committed, and bring every projection and the
        people directory up to date."""
        self.sequencer.catch_up()
        self.runner.catch_up()
        self.indexer.catch_up()

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
    genesis: bool = True,
) -> Runtime:
    if not settings.allow_loose_key_permissions:
        require_private_keys(settings.keys_dir)  # before any key is read
    witnesses = load_witness_policy(settings.witnesses)  # a bad policy fails at start-up
    clock = clock or SystemClock()
    policy = policy or CheckpointPolicy(
        every=settings.checkpoint_every, interval=settings.checkpoint_interval_ms / 1000
    )
    with schema_lock(settings):  # tables are created once, even by processes starting together
        store = open_store(settings, verify_all=verify_all, genesis=genesis)
        log_storage = open_log_storage(settings)
        db = Database(settings)
        runner = ProjectionRunner(db)
        people = open_directory(settings, db)
    queries = Queries(db, store)
    return Runtime(
        settings=settings,
        store=store,
        log_storage=log_storage,
        service=LedgerService(store, store.person_keys, clock, people=people, lookups=queries),
        sequencer=Sequencer(log_storage, store.signing, clock, policy),
        clock=clock,
        db=db,
        runner=runner,
        queries=queries,
        people=people,
        indexer=PeopleIndexer(db, store, people),
        witnessing=None if witnesses is None else Witnessing(log_storage, witnesses),
    )
