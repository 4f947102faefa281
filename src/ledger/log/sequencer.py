"""The log sequencer: gives every committed event a dense leaf index, in commit order.

Each batch, in one transaction under the single-writer lock: read the events committed after the
newest leaf's notification id, hash them as RFC 9162 leaves, append them to the compact range,
and store the leaves and every completed subtree hash. Notification ids may have gaps (a failed
insert burns one); leaf indices never do. After a crash the next batch resumes from what was
committed: no gap, no duplicate.

The checkpointer signs a new checkpoint when the tree has grown by `every` leaves or the oldest
unsigned leaf is `interval` seconds old, after checking consistency with the previous checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger.clock import Clock
from ledger.integrity.keyring import format_time
from ledger.integrity.merkle import (
    CompactRange,
    consistency_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
)
from ledger.log.checkpoints import sign_checkpoint
from ledger.log.storage import LogStorage, LogTransaction, NodeId, StoredCheckpoint
from ledger.store.signing import Signing

log = logging.getLogger("ledger.log")


class LogCorruptedError(Exception):
    """The stored log contradicts itself (a missing node, an inconsistent checkpoint)."""


def node_reader(tx: LogTransaction) -> Callable[[int, int], bytes]:
    def get_node(level: int, index: int) -> bytes:
        found = tx.get_nodes([(level, index)])
        if (level, index) not in found:
            raise LogCorruptedError(f"log node ({level}, {index}) is missing")
        return found[(level, index)]

    return get_node


def batch_reader(tx: LogTransaction) -> Callable[[list[NodeId]], dict[NodeId, bytes]]:
    def get(ids: list[NodeId]) -> dict[NodeId, bytes]:
        found = tx.get_nodes(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise LogCorruptedError(f"log nodes {missing} are missing")
        return found

    return get


@dataclass(frozen=True)
class CheckpointPolicy:
    every: int = 10_000
    interval: float = 0.5


class Sequencer:
    def __init__(
        self,
        storage: LogStorage,
        signing: Signing,
        clock: Clock,
        policy: CheckpointPolicy | None = None,
        batch: int = 2000,
    ) -> None:
        self.storage = storage
        self.signing = signing
        self.clock = clock
        self.policy = policy or CheckpointPolicy()
        self.batch = batch
        self._range: CompactRange | None = None
        self._unsigned_since: float | None = None
        self._signed: int | None = None  # the newest checkpoint's size when last looked at
        self._looked_at = float("-inf")  # time.monotonic() of that look

    def sequence_once(self, batch: int | None = None) -> int:
        """Sequence one batch of new events (`batch` of them, else the sequencer's own batch
        size); return how many leaves were added."""
        try:
            with self.storage.write(durable=False) as tx:  # leaves: sequenced again if lost
                size, last_id = tx.size()
                if self._range is None or self._range.size != size:
                    self._range = CompactRange.from_store(size, node_reader(tx))
                rows = tx.leaf_data_after(last_id, batch or self.batch)
                if not rows:
                    return 0
                first = self._range.size
                leaves = [
                    (first + i, notification_id) for i, (notification_id, _) in enumerate(rows)
                ]
                nodes = self._range.append_rows([leaf_hash(data) for _, data in rows])
                tx.add_leaves(leaves)
                tx.add_nodes(nodes)
        except BaseException:
            self._range = None  # the transaction rolled back: reload from what is stored
            raise
        if self._unsigned_since is None:
            self._unsigned_since = time.monotonic()
        return len(rows)

    def checkpoint(self, *, force: bool = False) -> StoredCheckpoint | None:
        """Sign a checkpoint of the current tree if the policy (or `force`) says so."""
        if not force and self._surely_not_due():
            return None
        with self.storage.write() as tx:
            size, _ = tx.size()
            latest = tx.latest_checkpoint()
            signed = 0 if latest is None else latest.size
            self._signed, self._looked_at = signed, time.monotonic()
            if size == 0 or size == signed:
                self._unsigned_since = None
                return None
            if self._unsigned_since is None:  # leaves another process added: their clock starts
                self._unsigned_since = time.monotonic()
            waited = time.monotonic() - self._unsigned_since
            if not force and size - signed < self.policy.every and waited < self.policy.interval:
                return None
            get_node = node_reader(tx)
            root = tree_root(size, get_node)
            if latest is not None:
                # Never sign a tree that does not extend what was signed before.
                proof = consistency_proof(latest.size, size, get_node)
                verify_consistency(latest.size, size, proof, latest.root, root)
            now = self.clock.now()
            signer = self.signing.signer_at(now, "checkpoints")
            note = sign_checkpoint(self.signing.origin, signer, size, root, now)
            stored = StoredCheckpoint(size=size, root=root, note=note, signed_at=format_time(now))
            tx.add_checkpoint(stored)
        self._unsigned_since = None
        self._signed = size
        log.info("checkpoint signed", extra={"tree_size": size})
        return stored

    def _surely_not_due(self) -> bool:
        """Whether this sequencer knows, without a transaction, that no checkpoint is due: the
        leaves it added since the newest checkpoint it saw are fewer than `every` and the
        oldest of them is younger than `interval` (or it added none). The store is looked at
        once an interval all the same, for leaves another process may have added (signed
        within two intervals); a worker checks after every batch, and this keeps a
        transaction per batch off its path."""
        now = time.monotonic()
        if self._signed is None or self._range is None:
            return False
        if now - self._looked_at >= self.policy.interval:
            return False
        if self._unsigned_since is None:
            return True
        return (
            self._range.size - self._signed < self.policy.every
            and now - self._unsigned_since < self.policy.interval
        )

    def catch_up(self) -> int:
        """Sequence everything committed so far and sign a checkpoint covering it."""
        total = 0
        while (added := self.sequence_once()) > 0:
            total += added
        self.checkpoint(force=True)
        return total

    def run(self, stop: threading.Event, poll: float = 0.1) -> None:
        """Keep the log current until `stop` is set (a background thread or worker process)."""
        while not stop.is_set():
            try:
                added = self.sequence_once()
                self.checkpoint()
            except Exception:
                log.exception("log sequencer batch failed; retrying")
                added = 0
            if added < self.batch:
                stop.wait(poll)
