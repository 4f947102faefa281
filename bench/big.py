"""A large ledger for the benchmarks: the demo history, one trainer with 200 events, and
synthetic signed records up to the wanted size, on SQLite or PostgreSQL.

The synthetic records are signed with the ledger's own key and inserted as the importer inserts
records (already signed, in batches), then sequenced into the log, projected and indexed, so the
result is an ordinary ledger that audits clean and serves verification and time-travel queries.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from bench.synthetic import records
from ledger.audit.importer import stored_event
from ledger.demo import load_demo
from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime

BATCH = 2000
BUSY_TRAINER_EVENTS = 200


@dataclass
class BigLedger:
    certificates: list[str]
    busy_trainer: str
    busy_trainer_events: int
    history_size: int  # records before the synthetic fill: the demo and the busy trainer
    log_size: int
    seconds: dict[str, float]


def build(runtime: Runtime, total: int, say: Callable[[str], None] | None = None) -> BigLedger:
    """Fill an empty ledger to `total` records (at least the demo history)."""
    say = say or (lambda text: print(text, file=sys.stderr))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    demo = load_demo(runtime.service, date(2026, 6, 1))
    registrar = Actor("registrar-bench", Role.REGISTRAR)
    busy = demo.qualified_ids[0]
    have = len(runtime.store.app.recorder.select_events(UUID(busy)))
    for n in range(BUSY_TRAINER_EVENTS - have):
        runtime.service.record_course(registrar, busy, date(2021, 1, 1), f"Region {n % 7}", 12)
    seconds["demo"] = time.perf_counter() - started
    present = runtime.store.app.recorder.max_notification_id() or 0
    fill = max(total - present, 0)
    started = time.perf_counter()
    signer = runtime.store.signing.signer_at(datetime(2020, 1, 1, tzinfo=UTC))
    recorder = runtime.store.app.recorder
    batch: list[StoredEvent] = []
    for done, data in enumerate(
        records(fill, per_stream=200, signer=signer, origin=runtime.store.signing.origin), 1
    ):
        batch.append(stored_event(data))
        if len(batch) >= BATCH:
            recorder.insert_events(batch)
            batch = []
            if done % 100_000 < BATCH:
                say(f"  {done:,} of {fill:,} records inserted")
    if batch:
        recorder.insert_events(batch)
    seconds["insert"] = time.perf_counter() - started
    started = time.perf_counter()
    runtime.sequencer.catch_up()
    seconds["sequence"] = time.perf_counter() - started
    started = time.perf_counter()
    runtime.runner.catch_up()
    seconds["project"] = time.perf_counter() - started
    # The people directory too, so that the server measured later serves a ledger at rest rather
    # than catching its directory up beside the load.
    started = time.perf_counter()
    with _quiet("ledger.search"):  # synthetic people have no data keys: a warning per batch
        runtime.indexer.catch_up()
    seconds["index"] = time.perf_counter() - started
    certificates = [i for ids in demo.certificates.values() for i in ids]
    return BigLedger(
        certificates=certificates,
        busy_trainer=busy,
        busy_trainer_events=len(recorder.select_events(UUID(busy))),
        history_size=present,
        log_size=_log_size(runtime),
        seconds=seconds,
    )


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _log_size(runtime: Runtime) -> int:
    with runtime.log_storage.read() as tx:
        return tx.size()[0]
