"""The eventsourcing application of the ledger, wired to SQLite or PostgreSQL.

`open_store` is the one place where settings become a running store: it loads the key ring,
the private keys this process may sign with, the per-person key store, and the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
    Repository,
    project_aggregate,
)
from eventsourcing.persistence import EventStore, IntegrityError, Mapper, Recording

from ledger import request_keys
from ledger.config import Settings, parse_database_url
from ledger.db import schema_lock
from ledger.domain.errors import Conflict, NotFound
from ledger.integrity.errors import DecryptionError
from ledger.integrity.keyring import KeyDirectory
from ledger.store.event_store import ChainedEventStore
from ledger.store.group_commit import GroupCommitter
from ledger.store.key_history import ensure_key_history, read_history
from ledger.store.mapper import SigningMapper
from ledger.store.person_keys import PersonKeys, PostgresPersonKeys, SQLitePersonKeys
from ledger.store.recorders import SQLiteLedgerRecorder, recorder_topic
from ledger.store.repository import LockedCopyRepository
from ledger.store.signing import Signing

APPLICATION_NAME = "Ledger"


class LedgerApplication(Application[UUID]):
    name = APPLICATION_NAME

    def __init__(
        self, signing: Signing, person_keys: PersonKeys, env: dict[str, str], verify_all: bool
    ) -> None:
        self._signing = signing
        self._person_keys = person_keys
        self._verify_all = verify_all
        super().__init__(env)

    def construct_repository(self) -> Repository[UUID]:
        made = super().construct_repository()
        cache = made.cache
        return LockedCopyRepository(
            event_store=made.event_store,
            snapshot_store=made.snapshot_store,
            cache_maxsize=cache.maxsize if isinstance(cache, LRUCache) else None,
            fastforward=made.fastforward,
            fastforward_skipping=made.fastforward_skipping,
            deepcopy_from_cache=made.deepcopy_from_cache,
        )

    def close(self) -> None:
        super().close()
        if isinstance(self.recorder, SQLiteLedgerRecorder):
            self.recorder.close_reads()

    def construct_mapper(self) -> Mapper[UUID]:
        return SigningMapper(self._signing, self._person_keys)

    def construct_event_store(self) -> EventStore[UUID]:
        mapper = self.mapper
        assert isinstance(mapper, SigningMapper)
        return ChainedEventStore(mapper, self.recorder, verify_all=self._verify_all)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = super()._record(processing_event)
        # With fast-forwarding on, the library does not cache what it has just saved, so the
        # next command on the aggregate would re-read and re-verify the records it wrote. Cache
        # the saved aggregate: the next read fast-forwards only past records newer than it
        # (another process's), chained to the head this store has just written.
        if self.repository.cache is not None and self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return recordings


@dataclass
class Store:
    """The port the service layer writes through: load aggregates, save them atomically."""

    app: LedgerApplication
    person_keys: PersonKeys
    settings: Settings
    committer: GroupCommitter = field(init=False)

    def __post_init__(self) -> None:
        self.committer = GroupCommitter(self.app)

    def get(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any:
        try:
            aggregate: Any = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(kind, str(aggregate_id)) from None
        if cls is not None and not isinstance(aggregate, cls):
            raise NotFound(kind, str(aggregate_id))
        return aggregate

    def get_many(
        self,
        kind: str,
        aggregate_ids: Sequence[UUID],
        cls: type[Any] | None = None,
        *,
        readable_only: bool = False,
        version: int | None = None,
    ) -> dict[UUID, Any]:
        """As `get` for each of several aggregates, read together (a page of people: one read
        of their records and one of their data keys, instead of two or more each). Read from
        the records, not the cache (nor left in it), so each is as current as the read, or as
        it stood at `version`. Raises `NotFound` for the first that is missing, or an
        integrity error for the first whose records do not pass the checks; with
        `readable_only`, those are left out."""
        event_store = self.app.events
        assert isinstance(event_store, ChainedEventStore)
        streams = event_store.get_streams(aggregate_ids, readable_only=readable_only, lte=version)
        found: dict[UUID, Any] = {}
        for aggregate_id in aggregate_ids:
            events = streams.get(aggregate_id)
            aggregate = None if events is None else project_aggregate(None, events)
            if aggregate is not None and (cls is None or isinstance(aggregate, cls)):
                found[aggregate_id] = aggregate
            elif not readable_only:
                raise NotFound(kind, str(aggregate_id))
        return found

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(list(self.app.recorder.select_events(aggregate_id, limit=1)))

    def forget_cached(self) -> None:
        """Drop every cached aggregate: after an erasure, those of other streams may hold the
        erased person's free text decrypted; read again, it reads `[erased]`."""
        cache = self.app.repository.cache
        if isinstance(cache, LRUCache):  # a new one: the library's clear() keeps the entries
            self.app.repository.cache = LRUCache(maxsize=cache.maxsize)

    def save(self, *aggregates: Any) -> list[int]:
        """Save atomically; under a request's Idempotency-Key, bind the key to these events in
        the same transaction (ledger.store.recorders). Concurrent saves share transactions
        (ledger.store.group_commit)."""
        binding = request_keys.current()
        try:
            recordings = self.committer.save(*aggregates, binding=binding)
        except IntegrityError as exc:
            raise Conflict(
                "another change to the same record was saved first; reload and retry"
            ) from exc
        except DecryptionError as exc:  # free text about an erased person
            raise Conflict(str(exc)) from exc
        ids = [r.notification.id for r in recordings]
        if binding is not None:
            binding.positions.extend(ids)
        return ids

    @property
    def signing(self) -> Signing:
        mapper = self.app.mapper
        assert isinstance(mapper, SigningMapper)
        return mapper.signing

    def close(self) -> None:
        self.app.close()
        self.person_keys.close()


# Aggregates verified once are kept and fast-forwarded with only their new records (each new
# record chained to the cached head), so a command does not re-read whole streams.
CACHE_ENV = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}


def backend_env(settings: Settings) -> dict[str, str]:
    recorder = {"APPLICATION_RECORDER_TOPIC": recorder_topic(settings.database_url is not None)}
    return {**CACHE_ENV, **recorder, **_backend_env(settings)}


def _backend_env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / "ledger.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    target = parse_database_url(settings.database_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": target.dbname,
        "POSTGRES_HOST": target.host,
        "POSTGRES_PORT": str(target.port),
        "POSTGRES_USER": target.user,
        "POSTGRES_PASSWORD": target.password,
        # One connection held from the start, up to 15 under load: a process (and every
        # one-off command) holds no more than it has needed, and the library's default of five
        # held by each would take much of the server's `max_connections` for nothing.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "14",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        # During an outage nothing waits longer than db_timeout_s: the library's "connect
        # timeout" is how long a request waits for a pooled connection, its lock timeout how
        # long an insert waits for the table lock that orders notifications.
        "POSTGRES_CONNECT_TIMEOUT": str(settings.db_timeout_s),
        "POSTGRES_LOCK_TIMEOUT": str(settings.db_timeout_s),
        # After a restart the pooled connections are dead: check each before handing it out
        # rather than failing the first request on each.
        "POSTGRES_PRE_PING": "y",
    }
    if target.schema:
        env["POSTGRES_SCHEMA"] = target.schema
    return env


def open_person_keys(settings: Settings, keys: KeyDirectory) -> PersonKeys:
    kek = keys.secret("person-kek")
    if settings.database_url is None:
        return SQLitePersonKeys(kek, settings.data_dir / "person-keys.sqlite")
    target = parse_database_url(settings.database_url)
    return PostgresPersonKeys(kek, target.conninfo(), target.schema)


def open_store(
    settings: Settings,
    *,
    verify_all: bool = False,
    genesis: bool = True,
) -> Store:
    """Open the store; a new ledger writes its key-ring genesis first (not for an import)."""
    keys = KeyDirectory(settings.keys_dir)
    signing = Signing.load(keys)
    with schema_lock(settings):  # tables are created once, even by processes starting together
        person_keys = open_person_keys(settings, keys)
        # The library reads its settings from the environment only through this mapping.
        app = LedgerApplication(signing, person_keys, backend_env(settings), verify_all)
        store = Store(app=app, person_keys=person_keys, settings=settings)
        signing.set_source(lambda: read_history(app, signing.origin).final())
        try:
            ensure_key_history(store, keys, genesis=genesis)
        except BaseException:
            store.close()
            raise
    return store
