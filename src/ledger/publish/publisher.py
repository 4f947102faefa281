"""One publication run: what changed since the last one, written so no reader is misled.

Order: the documents are rendered first (each carries a proof under the checkpoint newest when
it was rendered); then the newest checkpoint is read, so it covers every one of them; its new
tiles are written, then the documents, and the checkpoint last, so a reader never finds a
checkpoint (or a document's proof) whose tiles are not there yet. Every file is replaced
atomically. Partial tiles of earlier checkpoints are kept: a reader may still be on one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ledger.credentials.service import Credentials
from ledger.log.sequencer import batch_reader
from ledger.log.storage import StoredCheckpoint
from ledger.publish.documents import (
    CHECKPOINT,
    LOG,
    Document,
    certificate_ids,
    credential_document,
    issuer_documents,
    ledger_documents,
    status_lists,
    verification_document,
)
from ledger.publish.files import State, digest, write_atomic
from ledger.publish.tiles import TILE_HEIGHT, Tile, new_tiles
from ledger.runtime import Runtime


@dataclass
class Published:
    size: int = 0
    tiles: int = 0
    documents: int = 0
    unchanged: int = 0
    checkpoint_written: bool = False

    def summary(self) -> str:
        if not self.size:
            return "nothing published: the log has no checkpoint yet"
        return (
            f"published the checkpoint of size {self.size}"
            f"{'' if self.checkpoint_written else ' (unchanged)'}: {self.tiles} new tiles,"
            f" {self.documents} documents written, {self.unchanged} unchanged"
        )


def tile_bytes(runtime: Runtime, tile: Tile) -> bytes:
    """The tile's hashes: leaf hashes at level 0, stored node hashes above."""
    if tile.level == 0:
        found = runtime.public_log.leaf_hashes(tile.first, tile.first + tile.width)
        return b"".join(found)
    height = tile.level * TILE_HEIGHT
    ids = [(height, tile.first + i) for i in range(tile.width)]
    with runtime.log_storage.read() as tx:
        nodes = batch_reader(tx)(ids)
    return b"".join(nodes[i] for i in ids)


def _changed(
    documents: Iterable[Document], state: State, directory: Path, published: Published
) -> list[tuple[Document, str]]:
    changed = []
    for document in documents:
        stable = digest(document.stable)
        if state.unchanged(document.path, stable, directory):
            published.unchanged += 1
        else:
            changed.append((document, stable))
    return changed


def _certificates(
    runtime: Runtime, today: date, state: State, directory: Path, published: Published
) -> list[tuple[Document, str]]:
    """Each certificate's verification answer, and its credential when the answer changed (or
    the issuer's key ring or DID document did): signing every credential again at every run
    would cost the most and change nothing."""
    issuer_changed = any(
        not state.unchanged(d.path, digest(d.stable), directory) for d in issuer_documents(runtime)
    )
    credentials = Credentials(runtime)
    pending: list[tuple[Document, str]] = []
    for certificate_id in certificate_ids(runtime, today):
        answer = verification_document(runtime, certificate_id, today)
        if answer is None:
            continue
        changed = _changed([answer], state, directory, published)
        pending += changed
        kept = directory / f"credentials/{certificate_id}.json"
        if not changed and not issuer_changed and kept.is_file():
            published.unchanged += 1
            continue
        credential = credential_document(credentials, certificate_id)
        if credential is None:
            continue
        if issuer_changed:  # signed again by the current key: written even if it says the same
            pending.append((credential, digest(credential.stable)))
        else:
            pending += _changed([credential], state, directory, published)
    return pending


def publish(runtime: Runtime, directory: Path, today: date) -> Published:
    directory.mkdir(parents=True, exist_ok=True)
    state = State.load(directory)
    published = Published()
    pending = _certificates(runtime, today, state, directory, published)
    pending += _changed(status_lists(runtime, today), state, directory, published)
    latest: StoredCheckpoint | None = runtime.public_log.latest_checkpoint()
    if latest is None:
        return published
    published.size = latest.size
    for tile in new_tiles(state.size, latest.size):
        write_atomic(directory, f"{LOG}/{tile.path}", tile_bytes(runtime, tile))
        published.tiles += 1
    pending += _changed(ledger_documents(runtime, latest), state, directory, published)
    for document, stable in pending:
        write_atomic(directory, document.path, document.data)
        state.note(document.path, stable)
        published.documents += 1
    note = latest.cosigned_note.encode()
    checkpoint = directory / CHECKPOINT
    if not checkpoint.is_file() or checkpoint.read_bytes() != note:
        write_atomic(directory, CHECKPOINT, note)
        published.checkpoint_written = True
    state.size = latest.size
    state.save(directory)
    return published
