"""Data-key backups: every data key a ledger still holds, as the key store holds it (wrapped
under the key-encryption key `person-kek`), so that the backup is useless without that KEK.

The file is JSON lines (UTF-8):

    {"format": "ledger-data-keys", "version": 1, "origin": ..., "kek": "sha256:...",
     "count": N, "taken_at": "2025-03-14T02:00:00Z"}
    {"person": "<person id>", "wrapped": "<standard base64 of iv || AES-GCM(KEK, key)>"}
    ... N entries, ordered by person id ...
    {"sha256": "<hex SHA-256 of every byte above this line>"}

`kek` names the KEK without revealing it (`ledger.integrity.personal.kek_fingerprint`), so a
restore can say plainly that this ledger's KEK is another one. A wrapped key is bound to its
person id (the associated data), so an entry cannot be given to another person.

Restoring inserts only the keys of people the key store has no row for, and never the key of
a person whose erasure is recorded in the ledger's events: erasing a person after the backup
was taken stays final.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ledger.integrity.errors import DecryptionError
from ledger.store.person_keys import PersonKeys

FORMAT = "ledger-data-keys"
VERSION = 1
BATCH = 1000

Progress = Callable[[int], None]


class BackupError(Exception):
    """The file is not a usable data-key backup for this ledger; the message says why."""


@dataclass(frozen=True)
class BackupHeader:
    origin: str
    kek: str
    count: int
    taken_at: str


@dataclass(frozen=True)
class RestoreSummary:
    restored: int
    skipped_erased: int
    already_present: int


def write_backup(
    keys: PersonKeys,
    origin: str,
    path: Path,
    taken_at: datetime,
    progress: Progress | None = None,
) -> int:
    """Write every data key `keys` still holds to `path` (mode 0600, replaced atomically);
    returns how many. Erased people are not in it: their keys no longer exist."""
    partial = path.with_name(f".{path.name}.partial")
    body = path.with_name(f".{path.name}.entries")
    try:
        count = 0
        with _private(body) as out:
            for rows in keys.held(BATCH):
                for person, wrapped in rows:
                    out.write(_line({"person": person, "wrapped": _b64(wrapped)}))
                count += len(rows)
                if progress is not None:
                    progress(count)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "origin": origin,
            "kek": keys.kek_fingerprint,
            "count": count,
            "taken_at": taken_at.isoformat().replace("+00:00", "Z"),
        }
        digest = hashlib.sha256()
        with _private(partial) as out, body.open("rb") as entries:
            for chunk in _chain([_line(header)], entries):
                digest.update(chunk)
                out.write(chunk)
            out.write(_line({"sha256": digest.hexdigest()}))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    finally:
        body.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return count


def read_header(path: Path) -> BackupHeader:
    """The header alone (what the file says it holds), before `check_backup` reads it all."""
    with _open(path) as source:
        return _header(_next_line(source, hashlib.sha256(), path))


def check_backup(path: Path, progress: Progress | None = None) -> BackupHeader:
    """Read the whole file: its header, every entry's form, the count and the checksum."""
    digest = hashlib.sha256()
    count = 0
    with _open(path) as source:
        header = _header(_next_line(source, digest, path))
        while True:
            raw = source.readline()
            if not raw:
                raise BackupError(
                    f"{path} ends early after {count:,} of {header.count:,} keys, without its"
                    " checksum line: the file is truncated"
                )
            found = _json(raw, path)
            if "sha256" in found and "person" not in found:
                break
            digest.update(raw)
            _entry(found, path)
            count += 1
            if progress is not None:
                progress(count)
        if found.get("sha256") != digest.hexdigest():
            raise BackupError(
                f"{path}: the checksum does not match its content: the file is damaged"
            )
        if source.read(1):
            raise BackupError(f"{path}: there is data after the checksum line: the file is damaged")
    if count != header.count:
        raise BackupError(
            f"{path}: the header says {header.count:,} keys, the file holds {count:,}"
        )
    return header


def entries(path: Path, batch: int = BATCH) -> Iterator[list[tuple[str, bytes]]]:
    """The entries of a file `check_backup` has passed, in batches."""
    with _open(path) as source:
        source.readline()  # the header
        rows: list[tuple[str, bytes]] = []
        for raw in source:
            found = _json(raw, path)
            if "person" not in found:
                break  # the checksum line
            rows.append(_entry(found, path))
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


def restore_backup(
    keys: PersonKeys,
    origin: str,
    path: Path,
    erased: Collection[str],
    progress: Progress | None = None,
) -> RestoreSummary:
    """Restore the keys of `path` that `keys` lacks, except those of `erased` people (whose
    erasure the ledger's events record). Nothing is written unless the whole file checks out
    and was taken under this ledger's origin and KEK."""
    header = check_backup(path)
    if header.origin != origin:
        raise BackupError(
            f"{path} holds the data keys of ledger {header.origin!r}; this ledger is {origin!r}"
        )
    if header.kek != keys.kek_fingerprint:
        raise BackupError(
            f"{path} was taken under the key-encryption key {header.kek}; this ledger's is"
            f" {keys.kek_fingerprint}: put the ledger's own person-kek.key (kept apart from the"
            " backup) in the keys folder's private/ folder, then restore again"
        )
    restored = skipped = present = done = 0
    for rows in entries(path):
        wanted = [(person, wrapped) for person, wrapped in rows if person not in erased]
        skipped += len(rows) - len(wanted)
        for person, wrapped in wanted:
            try:
                keys.check_wrapped(person, wrapped)
            except DecryptionError as exc:
                raise BackupError(f"{path}: {exc} under this ledger's KEK") from None
        inserted, erased_rows = keys.restore(wanted)
        restored += inserted
        skipped += len(erased_rows)
        present += len(wanted) - inserted - len(erased_rows)
        done += len(rows)
        if progress is not None:
            progress(done)
    return RestoreSummary(restored=restored, skipped_erased=skipped, already_present=present)


def _header(found: dict[str, Any]) -> BackupHeader:
    if found.get("format") != FORMAT:
        raise BackupError("not a data-key backup (its first line is not the backup's header)")
    if found.get("version") != VERSION:
        raise BackupError(
            f"a data-key backup of format version {found.get('version')!r}; this ledger reads"
            f" version {VERSION}"
        )
    fields = {"origin": str, "kek": str, "count": int, "taken_at": str}
    for name, kind in fields.items():
        if not isinstance(found.get(name), kind) or isinstance(found.get(name), bool):
            raise BackupError(f"the backup's header has no valid {name!r}")
    return BackupHeader(found["origin"], found["kek"], found["count"], found["taken_at"])


def _entry(found: dict[str, Any], path: Path) -> tuple[str, bytes]:
    person, wrapped = found.get("person"), found.get("wrapped")
    if not isinstance(person, str) or not isinstance(wrapped, str):
        raise BackupError(f"{path}: an entry is not a person id and a wrapped key")
    try:
        return person, base64.b64decode(wrapped, validate=True)
    except binascii.Error:
        raise BackupError(f"{path}: the wrapped key of person {person} is not base64") from None


def _next_line(source: IO[bytes], digest: Any, path: Path) -> dict[str, Any]:
    raw = source.readline()
    if not raw:
        raise BackupError(f"{path} is empty: not a data-key backup")
    digest.update(raw)
    return _json(raw, path)


def _json(raw: bytes, path: Path) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise BackupError(f"{path}: its last line is cut short: the file is truncated")
    try:
        found = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(
            f"{path}: a line is not JSON: not a data-key backup, or damaged"
        ) from None
    if not isinstance(found, dict):
        raise BackupError(f"{path}: a line is not a JSON object: the file is damaged")
    return found


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None


def _private(path: Path) -> IO[bytes]:
    """A new file only its owner may read."""
    path.unlink(missing_ok=True)
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _chain(first: list[bytes], rest: IO[bytes]) -> Iterator[bytes]:
    yield from first
    while chunk := rest.read(1 << 16):
        yield chunk


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
