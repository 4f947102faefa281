"""The log's face: the latest checkpoint, the verifier key, leaf hashes, entries and proofs.

The HTTP routes (`/log/checkpoint`, `/log/key`, `/log/leaf-hashes`, `/log/proof/inclusion`,
`/log/proof/consistency`, public; `/log/entries`, for auditors) are thin wrappers over these.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.integrity.keyring import Keyring
from ledger.integrity.merkle import (
    consistency_proof_node_ids,
    hashes_from_node_ids,
    inclusion_proof_node_ids,
)
from ledger.log.checkpoints import verifier_keys
from ledger.log.sequencer import batch_reader
from ledger.log.storage import LogStorage, LogTransaction, NodeId, StoredCheckpoint

MAX_ENTRIES = 1000


class LogRequestError(ValueError):
    """A request the log cannot answer (an index or size beyond the tree): names the field."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


@dataclass(frozen=True)
class Entry:
    index: int
    leaf_data: bytes


class PublicLog:
    def __init__(self, storage: LogStorage, keyring: Keyring) -> None:
        self.storage = storage
        self.keyring = keyring

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self.storage.read() as tx:
            return tx.latest_checkpoint()

    def verifier_key(self) -> str:
        """The current checkpoint verifier key (the newest checkpoints key)."""
        keys = verifier_keys(self.keyring)
        if not keys:
            raise LogRequestError("key", "the key ring has no checkpoints key")
        return keys[-1]

    def size(self) -> int:
        with self.storage.read() as tx:
            return tx.size()[0]

    def entries(self, start: int, end: int) -> list[Entry]:
        """Entries `[start, end)`, at most MAX_ENTRIES of them (clients page on)."""
        if start < 0:
            raise LogRequestError("start", "must be at least 0")
        if end <= start:
            raise LogRequestError("end", "must be greater than start")
        end = min(end, start + MAX_ENTRIES)
        return [Entry(i, row.data) for i, row in self.storage.entries(start, end)]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes `[start, end)`, at most MAX_ENTRIES of them: public, since a hash says
        nothing of the record, and with the proofs it lets anyone check the tree."""
        if start < 0:
            raise LogRequestError("start", "must be at least 0")
        if end <= start:
            raise LogRequestError("end", "must be greater than start")
        with self.storage.read() as tx:
            end = min(end, start + MAX_ENTRIES, tx.size()[0])
            found = batch_reader(tx)([(0, i) for i in range(start, end)])
        return [found[(0, i)] for i in range(start, end)]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
        with self.storage.read() as tx:
            current = tx.size()[0]
            if not 0 < size <= current:
                raise LogRequestError("size", f"must be 1 to the tree size {current}")
            if not 0 <= index < size:
                raise LogRequestError("index", f"must be 0 to {size - 1}")
            return _proof(tx, inclusion_proof_node_ids(index, size))

    def latest_inclusion(self, index: int) -> tuple[StoredCheckpoint, bytes, list[bytes]] | None:
        """The newest checkpoint, leaf `index`'s hash and its inclusion proof in that
        checkpoint's tree, all from one snapshot and one node query (None: the leaf is not
        under a checkpoint yet)."""
        with self.storage.read() as tx:
            latest = tx.latest_checkpoint()
            if latest is None or not 0 <= index < latest.size:
                return None
            ids = inclusion_proof_node_ids(index, latest.size)
            found = batch_reader(tx)([(0, index), *(node for group in ids for node in group)])
            proof = hashes_from_node_ids(ids, lambda level, at: found[(level, at)])
            return latest, found[(0, index)], proof

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof between the trees of `first` and `second` leaves."""
        with self.storage.read() as tx:
            current = tx.size()[0]
            if not 0 < second <= current:
                raise LogRequestError("to", f"must be 1 to the tree size {current}")
            if not 0 < first <= second:
                raise LogRequestError("from", f"must be 1 to {second}")
            return _proof(tx, consistency_proof_node_ids(first, second))


def _proof(tx: LogTransaction, ids: list[tuple[NodeId, ...]]) -> list[bytes]:
    """Fetch every node a proof needs in one query (O(log n) nodes), then combine them."""
    found = batch_reader(tx)([node for group in ids for node in group])
    return hashes_from_node_ids(ids, lambda level, index: found[(level, index)])
