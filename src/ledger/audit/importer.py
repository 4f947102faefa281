"""`ledger import DIR`: load an audited bundle into an empty ledger, records byte for byte.

The bundle must chain to the importing ledger's own trust root (its genesis is the root's), so
a bundle of another ledger, or one with a key its history did not introduce, is refused.

The bundle is audited first; the records are inserted verbatim (they are already signed), in log
order, so the new ledger's log has the same leaves, the same roots, and so the same checkpoints,
which are imported after their roots are reproduced. Projections are then built from the records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.audit.auditor import Auditor
from ledger.audit.bundle import Bundle
from ledger.integrity.keyring import KeyDirectory, format_time
from ledger.integrity.merkle import tree_root
from ledger.integrity.scan import scan
from ledger.integrity.trust_root import TrustRoot
from ledger.log.checkpoints import verify_checkpoint
from ledger.log.sequencer import node_reader
from ledger.log.storage import StoredCheckpoint
from ledger.runtime import Runtime
from ledger.store.key_history import sync_view
from projections.base import no_cycle_collection

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
    with no_cycle_collection():  # millions of rows, leaves and nodes, and no cycles among them
        count = _insert(runtime, bundle, progress)
        # From now on the key ring is the imported key history's (and trust-root.json its
        # genesis).
        sync_view(runtime.store, KeyDirectory(runtime.settings.keys_dir))
        while runtime.sequencer.sequence_once(SEQUENCE_BATCH):
            pass
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
    runtime.runner.catch_up()
    runtime.indexer.catch_up()  # the people directory: imported people can be searched at once
    return ImportSummary(records=count, checkpoints=imported, trust_root=report.genesis)


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
