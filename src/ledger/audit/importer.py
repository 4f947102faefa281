"""`ledger import DIR`: load an audited bundle into an empty ledger, records byte for byte.

The bundle must chain to the importing ledger's own trust root (its genesis is the root's), so
a bundle of another ledger, or one with a key its history did not introduce, is refused.

The bundle is audited first; the records are inserted verbatim (they are already signed), in log
order, so the new ledger's log has the same leaves, the same roots, and so the same checkpoints,
which are imported after their roots are reproduced. The projections are built from the bundle
in memory by a worker process while the records are inserted and sequenced (the other core),
then loaded in one transaction: the same rows the runner's batches would write, without reading
the records back.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.audit.auditor import Auditor
from ledger.audit.bundle import Bundle
from ledger.integrity.keyring import KeyDirectory, Keyring, format_time
from ledger.integrity.merkle import tree_root
from ledger.integrity.scan import scan
from ledger.integrity.trust_root import TrustRoot
from ledger.log.checkpoints import verify_checkpoint
from ledger.log.sequencer import node_reader
from ledger.log.storage import StoredCheckpoint
from ledger.runtime import Runtime
from ledger.store.key_history import sync_view
from ledger.views.sql import StoredRow
from projections import BY_NAME
from projections.base import no_cycle_collection, replay_views

BATCH = 2000
SEQUENCE_BATCH = 20_000  # leaves per log transaction while the imported records are sequenced


class ImportError_(Exception):  # noqa: N801 - not the builtin ImportError
    """The bundle cannot be imported: it does not audit clean, or the ledger is not empty."""


@dataclass(frozen=True)
class ImportSummary:
    records: int
    checkpoints: int
    trust_root: str


# A record's last three members in canonical form (sorted keys: nothing follows them, and
# their values hold no quote): how an audited record's row is read without a full scan.
_STREAM_MEMBER = b',"stream":"'
_TAIL = re.compile(rb',"stream":"([0-9a-f-]{36})","type":"([^"]*)","version":([1-9][0-9]{0,14})\}')


def stored_event(data: bytes) -> StoredEvent:
    """The row for a signed record's bytes, inserted as they are."""
    tail = _TAIL.fullmatch(data, data.rfind(_STREAM_MEMBER))
    if tail is not None:
        stream, type_, version = tail.groups()
        return StoredEvent(
            originator_id=UUID(stream.decode()),
            originator_version=int(version),
            topic=type_.decode(),
            state=data,
        )
    envelope = scan(data)
    if envelope is None:
        raise ImportError_("a record does not have the record's shape")
    return StoredEvent(
        originator_id=UUID(envelope.stream.decode()),
        originator_version=envelope.version,
        topic=envelope.type.decode(),
        state=data,
    )


def import_bundle(
    runtime: Runtime,
    directory: Path,
    progress: Any = None,
    trust_root: TrustRoot | None = None,
) -> ImportSummary:
    """Audit the bundle against `trust_root` (None: trust on first use), then load it."""
    bundle = Bundle(directory)
    keyring = bundle.keyring()
    if keyring.origin != runtime.store.signing.origin:
        raise ImportError_(
            f"bundle is of origin {keyring.origin}, this ledger is {runtime.store.signing.origin}"
        )
    if runtime.store.app.recorder.max_notification_id():
        raise ImportError_("this ledger already holds records; import only into an empty one")
    report = Auditor(keyring, trust_root=trust_root).audit(bundle)
    if not report.ok:
        first = report.first_problem
        assert first is not None
        raise ImportError_(
            f"the bundle does not audit clean: position {first.position}: {first.reason}"
        )
    assert report.genesis is not None  # a clean audit has traced the key history
    with _ProjectionBuild(runtime, directory) as build:
        with no_cycle_collection():  # millions of rows, leaves and nodes, and no cycles
            count = _insert(runtime, bundle, progress)
            # From now on the key ring is the imported key history's (and trust-root.json its
            # genesis).
            sync_view(runtime.store, KeyDirectory(runtime.settings.keys_dir))
            while runtime.sequencer.sequence_once(SEQUENCE_BATCH):
                pass
        imported = _import_checkpoints(runtime, bundle, keyring)
        build.load(count)
    runtime.runner.catch_up()  # whatever the build did not bring (nothing, as a rule)
    runtime.indexer.catch_up()  # the people directory: imported people can be searched at once
    return ImportSummary(records=count, checkpoints=imported, trust_root=report.genesis)


def _import_checkpoints(runtime: Runtime, bundle: Bundle, keyring: Keyring) -> int:
    """The bundle's checkpoints, each once the imported log reproduces its root."""
    imported = 0
    with runtime.log_storage.write() as tx:
        get_node = node_reader(tx)
        for size, note in bundle.checkpoints():
            checkpoint = verify_checkpoint(note, keyring)
            if tree_root(size, get_node) != checkpoint.root:
                raise ImportError_(f"imported log does not reproduce checkpoint {size}")
            tx.add_checkpoint(
                StoredCheckpoint(size, checkpoint.root, note, format_time(checkpoint.signed_at))
            )
            imported += 1
    return imported


Built = tuple[int, dict[str, tuple[int, list[StoredRow]]]]


def build_projections(directory: Path, names: list[str]) -> Built:
    """Every projection named, built in memory from the bundle's records (in a worker process
    while the records are inserted and sequenced): the number of records, and each
    projection's version and rows by name."""
    chosen = [BY_NAME[name] for name in names]
    count, views = replay_views(chosen, (data for data, _ in Bundle(directory).records()))
    return count, {
        projection.name: (projection.version, view.stored_rows())
        for projection, view in zip(chosen, views, strict=True)
    }


class _ProjectionBuild:
    """The projections of an import, built from the bundle by one worker process beside the
    inserts, then loaded in one transaction. Anything amiss (no process to be had, a failure in
    it, projections this build does not know, a ledger not at the start) loads nothing: the
    runner then applies the records as it always does, only later."""

    def __init__(self, runtime: Runtime, directory: Path) -> None:
        self.runner = runtime.runner
        self.directory = directory
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future[Built] | None = None

    def __enter__(self) -> _ProjectionBuild:
        names = list(self.runner.projections)
        if all(BY_NAME.get(name) is p for name, p in self.runner.projections.items()):
            try:
                self.pool = ProcessPoolExecutor(max_workers=1)
                self.future = self.pool.submit(build_projections, self.directory, names)
            except OSError:
                self.future = None
        return self

    def load(self, count: int) -> bool:
        if self.future is None:
            return False
        try:
            built, views = self.future.result()
        except (OSError, BrokenProcessPool):
            return False
        return built == count and self.runner.load_built(views, count)

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _insert(runtime: Runtime, bundle: Bundle, progress: Any) -> int:
    """Every record of the bundle into the empty store, in batches; the number inserted."""
    recorder = runtime.store.app.recorder
    batch: list[StoredEvent] = []
    count = 0
    for data, _ in bundle.records():
        batch.append(stored_event(data))  # the audit has parsed every record
        count += 1
        if len(batch) >= BATCH:
            recorder.insert_events(batch)
            batch = []
            if progress is not None:
                progress(count)
    if batch:
        recorder.insert_events(batch)
    if progress is not None:
        progress(count)
    return count
