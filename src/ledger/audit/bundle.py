"""The auditor bundle: every signed record in log order, every checkpoint, the public key ring.

    manifest.json       {"format": "ledger-bundle/1", "origin", "records", "checkpoints",
                         "exported_at", "projections"}
    records.jsonl       line i is exactly the leaf data of log position i (a canonical record)
    stored.csv          line i: where the database stored record i ("stream,version,type")
    checkpoints.jsonl   one {"size": n, "note": "<signed checkpoint note>"} per line, by size;
                        the note carries the witnesses' cosignature lines, if any
    keyring.json        the public key ring
    projections.json    each projection's name, version and content digest (when present)

Lines end with "\\n". A record never contains a newline (canonical JSON escapes it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ledger.integrity.keyring import Keyring, format_time
from ledger.log.storage import LogStorage

FORMAT = "ledger-bundle/1"
RECORDS = "records.jsonl"
STORED = "stored.csv"
CHECKPOINTS = "checkpoints.jsonl"
KEYRING = "keyring.json"
MANIFEST = "manifest.json"
PROJECTIONS = "projections.json"
BATCH_BYTES = 1 << 20  # records.jsonl is read in blocks of this size by `Bundle.batches`
BATCH_ROWS = 4096  # records per batch of `DatabaseSource.batches`


class BundleError(Exception):
    """The bundle is missing a file or a file is not in the bundle format."""


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    records: int
    checkpoints: int


def export_bundle(
    storage: LogStorage,
    keyring: Keyring,
    directory: Path,
    projections: Mapping[str, Any] | None = None,
    progress: Any = None,
) -> ExportSummary:
    """Write the bundle. Records come from the event table in commit order, as stored."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BundleError(f"{directory} is not empty; export into a new folder")
    count = 0
    with (directory / RECORDS).open("wb") as records, (directory / STORED).open("w") as stored:
        stored.write("stream,version,type\n")
        for row in storage.all_events():
            if b"\n" in row.data:
                raise BundleError(f"record at notification {row.notification_id} has a newline")
            records.write(row.data + b"\n")
            stored.write(f"{row.stream},{row.version},{row.type}\n")
            count += 1
            if progress is not None:
                progress(count)
    checkpoints = storage.checkpoints()
    with (directory / CHECKPOINTS).open("w", encoding="utf-8") as handle:
        for checkpoint in checkpoints:
            note = checkpoint.cosigned_note  # with the witnesses' cosignatures, if any
            handle.write(json.dumps({"size": checkpoint.size, "note": note}) + "\n")
    _write_json(directory / KEYRING, keyring.to_json())
    if projections is not None:
        _write_json(directory / PROJECTIONS, dict(projections))
    _write_json(
        directory / MANIFEST,
        {
            "format": FORMAT,
            "origin": keyring.origin,
            "records": count,
            "checkpoints": len(checkpoints),
            "exported_at": format_time(datetime.now(UTC)),
            "projections": projections is not None,
        },
    )
    return ExportSummary(directory, count, len(checkpoints))


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class Source(Protocol):
    """What an audit reads: a bundle folder, or the live database of a running ledger."""

    def keyring(self) -> Keyring: ...

    def checkpoints(self) -> list[tuple[int, str]]: ...

    def records(self) -> Iterator[tuple[bytes, bytes]]: ...

    def projections(self) -> dict[str, Any] | None: ...

    def size_hint(self) -> int: ...


class DatabaseSource:
    """The same content as an export, read straight from the database (`ledger audit --live`)."""

    def __init__(self, storage: LogStorage, keyring: Keyring) -> None:
        self.storage = storage
        self._keyring = keyring

    def keyring(self) -> Keyring:
        return self._keyring

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(c.size, c.cosigned_note) for c in self.storage.checkpoints()]

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        for row in self.storage.all_events():
            yield row.data, f"{row.stream},{row.version},{row.type}".encode()

    def batches(self) -> Iterator[tuple[list[bytes], list[bytes]]]:
        """The same as `records`, as (leaf data, as stored) lists of equal length."""
        # One query per batch, and only the batch's records kept: the audit's memory is the
        # same at every log size but for one small entry per stream.
        last = 0
        while True:
            with self.storage.read() as tx:
                rows = tx.events_after(last, BATCH_ROWS)
            if not rows:
                return
            last = rows[-1].notification_id
            datas = [row.data for row in rows]
            places = [f"{row.stream},{row.version},{row.type}".encode() for row in rows]
            del rows
            yield datas, places
            del datas, places

    def projections(self) -> dict[str, Any] | None:
        return None

    def size_hint(self) -> int:
        with self.storage.read() as tx:
            return tx.size()[0]


class Bundle:
    """Read access to a bundle folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        for name in (MANIFEST, RECORDS, STORED, CHECKPOINTS, KEYRING):
            if not (directory / name).is_file():
                raise BundleError(f"{directory} is not a bundle: {name} is missing")
        self.manifest = self._json(MANIFEST)
        if self.manifest.get("format") != FORMAT:
            raise BundleError(f"unknown bundle format {self.manifest.get('format')!r}")

    def _json(self, name: str) -> Any:
        try:
            return json.loads((self.directory / name).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleError(f"{name} is not valid JSON: {exc}") from exc

    def keyring(self) -> Keyring:
        return Keyring.from_json(self._json(KEYRING))

    def projections(self) -> dict[str, Any] | None:
        path = self.directory / PROJECTIONS
        return self._json(PROJECTIONS) if path.is_file() else None

    def checkpoints(self) -> list[tuple[int, str]]:
        found = []
        with (self.directory / CHECKPOINTS).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    item = json.loads(line)
                    found.append((int(item["size"]), str(item["note"])))
                except (ValueError, KeyError, TypeError) as exc:
                    raise BundleError(f"{CHECKPOINTS} line {number} is malformed: {exc}") from exc
        return found

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        """(leaf data, `stream,version,type` as stored) for each log position in order."""
        with (
            (self.directory / RECORDS).open("rb") as records,
            (self.directory / STORED).open("rb") as stored,
        ):
            if stored.readline() != b"stream,version,type\n":
                raise BundleError(f"{STORED} line 1 is not the header `stream,version,type`")
            line = 0
            for data in records:
                line += 1
                if not data.endswith(b"\n"):
                    raise BundleError(
                        f"{RECORDS} line {line} does not end in a newline (a cut-off file)"
                    )
                place = stored.readline()
                if not place:
                    raise BundleError(f"{STORED} ends at line {line}, before {RECORDS} line {line}")
                yield data[:-1], place.rstrip(b"\n")
            if stored.readline():
                raise BundleError(
                    f"{RECORDS} ends after line {line}, but {STORED} line {line + 2} names"
                    " another record: a record is missing from the bundle"
                )

    def batches(self) -> Iterator[tuple[list[bytes], list[bytes]]]:
        """The same as `records`, as (leaf data, as stored) lists of equal length, read in blocks.

        The same content and the same errors, raised after every complete record before the fault
        has been yielded; an audit of millions of records does far less work per record.
        """
        with (
            (self.directory / RECORDS).open("rb") as records,
            (self.directory / STORED).open("rb") as stored,
        ):
            if stored.readline() != b"stream,version,type\n":
                raise BundleError(f"{STORED} line 1 is not the header `stream,version,type`")
            line = 0  # records yielded so far
            rest = b""
            pending: list[bytes] = []  # stored lines read ahead, without their newlines
            stored_rest = b""
            while block := records.read(BATCH_BYTES):
                datas = (rest + block).split(b"\n")
                rest = datas.pop()
                if not datas:
                    continue
                while len(pending) < len(datas):
                    more = stored.read(BATCH_BYTES)
                    if not more:
                        if stored_rest:  # the last line of stored.csv may lack its newline
                            pending.append(stored_rest)
                            stored_rest = b""
                        break
                    parts = (stored_rest + more).split(b"\n")
                    stored_rest = parts.pop()
                    pending.extend(parts)
                places, pending = pending[: len(datas)], pending[len(datas) :]
                if len(places) < len(datas):
                    yield datas[: len(places)], places
                    line += len(places) + 1
                    raise BundleError(f"{STORED} ends at line {line}, before {RECORDS} line {line}")
                yield datas, places
                line += len(datas)
            if rest:
                line += 1
                raise BundleError(
                    f"{RECORDS} line {line} does not end in a newline (a cut-off file)"
                )
            if pending or stored_rest or stored.read(1):
                raise BundleError(
                    f"{RECORDS} ends after line {line}, but {STORED} line {line + 2} names"
                    " another record: a record is missing from the bundle"
                )

    def size_hint(self) -> int:
        return int(self.manifest.get("records", 0))

    def where(self, position: int) -> str:
        """Where a log position's record is in the bundle, for people."""
        return f"{RECORDS} line {position + 1}"
