"""Reading a ledger's static publication (`ledger publish`) by URL: the tiles reader.

The tree head is trusted only as far as it is checked: the key ring is derived from the
published key-history records (their signatures and rules, docs/ledger-format.md section 15),
their genesis is the pinned trust root's when one is given, the checkpoint verifies by a
checkpoints key of that ring, the root recomputed from the tiles is the checkpoint's, and every
key-history record is the leaf the tiles have at its position. Every answer passes through the
careful `Fetcher` (size caps, one deadline, same-origin redirects only).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from ledger.audit.bundle import BundleError
from ledger.audit.fetch import Fetcher, FetchStopped
from ledger.config import AuditClientLimits
from ledger.credentials.verifier import Verdict
from ledger.integrity.errors import KeyringError
from ledger.integrity.key_history import derive_proven
from ledger.integrity.keyring import Keyring
from ledger.integrity.merkle import MerkleError, leaf_hash
from ledger.integrity.trust_root import TrustRoot
from ledger.log.checkpoints import CheckpointError, VerifiedCheckpoint, verify_checkpoint
from ledger.publish.documents import CHECKPOINT, KEY_HISTORY, LOG, MARKER, MARKER_FORMAT
from ledger.publish.tiles import TileError, TileTree


@dataclass
class TreeVerdict(Verdict):
    """A verdict that also names the ledger's origin (for trust on first use)."""

    origin: str | None = None


class TreeError(Exception):
    """The publication does not hold together; the message says where."""


class StaticTree:
    """GETs of one publication's files, relative to its base URL."""

    def __init__(self, base: str, limits: AuditClientLimits | None = None) -> None:
        self.base = base.rstrip("/")
        self.fetcher = Fetcher(self.base, limits or AuditClientLimits.from_env(os.environ))

    def get(self, path: str) -> bytes:
        return self.fetcher.get(f"{self.base}/{path}")

    def json(self, path: str) -> Any:
        try:
            return json.loads(self.get(path))
        except ValueError as exc:
            raise BundleError(f"{self.base}/{path} is not JSON: {exc}") from exc

    def tile(self, path: str) -> bytes:
        return self.get(f"{LOG}/{path}")

    def is_publication(self) -> bool:
        """Whether the base URL is a static publication (not a ledger's API)."""
        try:
            marker = self.json(MARKER)
        except FetchStopped:
            raise  # a limit reached: the server is not given a second allowance
        except BundleError:
            return False
        return isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT


@dataclass
class TreeHead:
    """The verified checkpoint, the key ring it verified with, and the tree of its tiles."""

    keyring: Keyring
    checkpoint: VerifiedCheckpoint
    note: str
    tree: TileTree


def open_head(static: StaticTree, trust_root: TrustRoot | None, verdict: Verdict) -> TreeHead:
    """Check the tree head as the module says, a verdict line per step; `TreeError` at the
    first that fails (its line added)."""
    try:
        note = static.get(CHECKPOINT).decode("utf-8")
        history_answer = static.json(KEY_HISTORY)
        records = history_answer["records"]
        history = derive_proven(records)
    except (BundleError, KeyringError, KeyError, TypeError, UnicodeDecodeError) as exc:
        verdict.add("keys", False, f"the published key history does not verify: {exc}")
        raise TreeError(str(exc)) from exc
    if isinstance(verdict, TreeVerdict):
        verdict.origin = history.origin
    if not verdict.traced(history, trust_root):
        raise TreeError(verdict.checks[-1][2])
    keyring = history.final()
    try:
        checkpoint = verify_checkpoint(note, keyring)
    except CheckpointError as exc:
        verdict.add("checkpoint", False, f"{static.base}/{CHECKPOINT} does not verify: {exc}")
        raise TreeError(str(exc)) from exc
    verdict.add(
        "checkpoint",
        True,
        f"size {checkpoint.size} signed at {checkpoint.signed_at.isoformat()} by {checkpoint.kid}",
    )
    tree = TileTree(checkpoint.size, static.tile)
    try:
        root = tree.root()
        if root != checkpoint.root:
            raise TileError(
                f"the tiles give the root {base64.b64encode(root).decode()}, the checkpoint"
                f" says {base64.b64encode(checkpoint.root).decode()}"
            )
        for record in records:
            position = int(record["position"])
            data = base64.b64decode(record["leaf_data"], validate=True)
            if position >= checkpoint.size or tree.leaf_hash(position) != leaf_hash(data):
                raise TileError(f"key-history record at {position} is not that leaf of the tiles")
    except (BundleError, TileError, MerkleError, ValueError, KeyError) as exc:
        verdict.add("tiles", False, str(exc))
        raise TreeError(str(exc)) from exc
    verdict.add(
        "tiles",
        True,
        f"the tiles recompute the checkpoint's root; the {history.records} key-history records"
        " are their leaves",
    )
    return TreeHead(keyring, checkpoint, note, tree)


def check_older(head: TreeHead, note: str, what: str, verdict: Verdict) -> VerifiedCheckpoint:
    """An older (or equal) checkpoint `note`: it verifies by the ring and the tiles of the head's
    tree give its root, so the head is an append-only extension of it."""
    try:
        older = verify_checkpoint(note, head.keyring)
        if older.size > head.checkpoint.size:
            raise TileError(
                f"it is of size {older.size}, beyond the published checkpoint"
                f" {head.checkpoint.size} (the publication is being updated: try again)"
            )
        if head.tree.root(older.size) != older.root:
            raise TileError(
                f"the tiles give another root for size {older.size}: the log was rewritten"
            )
    except (CheckpointError, TileError, BundleError, MerkleError) as exc:
        verdict.add(what, False, str(exc))
        raise TreeError(str(exc)) from exc
    verdict.add(
        what,
        True,
        f"the checkpoint of size {older.size} is consistent with the published one"
        f" of size {head.checkpoint.size}",
    )
    return older
