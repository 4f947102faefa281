"""The bundle audit over processes: the same report as the one-process audit, word for word.

Chunks are made small here so that a small ledger spans many of them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import parallel
from ledger.audit.auditor import Auditor, AuditReport
from ledger.audit.bundle import Bundle
from ledger.integrity.key_history import KEYRING_STREAM
from tests.trust_support import CliLedger, make_cli_ledger

CHUNK = 16


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> CliLedger:
    made = make_cli_ledger(tmp_path_factory.mktemp("parallel"))
    made.export()
    return made


@pytest.fixture
def bundle(source: CliLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(source.folder / "bundle", tmp_path / "bundle")
    monkeypatch.setattr(parallel, "MIN_RECORDS", 0)
    monkeypatch.setattr(parallel, "MIN_CHUNK", CHUNK)
    return tmp_path / "bundle"


def lines_of(bundle: Path) -> list[bytes]:
    return (bundle / "records.jsonl").read_bytes().split(b"\n")[:-1]


def write_lines(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "records.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def both(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AuditReport, AuditReport]:
    """(over processes, in one process), each with its progress calls."""
    source = Bundle(bundle)
    spread = Auditor(source.keyring(), workers=2).audit(source)
    with monkeypatch.context() as patch:
        patch.setattr(parallel, "MIN_RECORDS", 1 << 62)
        single = Auditor(source.keyring(), workers=2).audit(source)
    return spread, single


def spread_scan(bundle: Path) -> tuple[Any, int] | None:
    source = Bundle(bundle)
    auditor = Auditor(source.keyring(), workers=2)
    auditor._checkpoint_kids = []
    targets = auditor._checkpoint_targets(source, AuditReport(origin=""), lambda *_: None)
    return parallel.parallel_scan(auditor, source, AuditReport(origin=""), targets)


def stream_of(line: bytes) -> str:
    return str(json.loads(line)["stream"])


def test_a_clean_bundle_is_audited_over_processes_with_the_same_report(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_of(bundle)
    assert len(lines) > 4 * CHUNK  # many chunks
    assert spread_scan(bundle) is not None  # the parallel path ran and found nothing
    spread, single = both(bundle, monkeypatch)
    assert spread.ok
    assert spread.verified_size > CHUNK  # a checkpoint past the first chunk was reproduced
    assert spread.to_json() == single.to_json()


def test_progress_is_the_same_over_processes(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Bundle(bundle)
    spread: list[int] = []
    Auditor(source.keyring(), workers=2, progress=spread.append).audit(source)
    monkeypatch.setattr(parallel, "MIN_RECORDS", 1 << 62)
    single: list[int] = []
    Auditor(source.keyring(), workers=2, progress=single.append).audit(source)
    assert spread == single
    assert spread[-1] == len(lines_of(bundle))


def change_in_second_chunk(lines: list[bytes]) -> list[bytes]:
    index = next(i for i in range(CHUNK, 2 * CHUNK) if stream_of(lines[i]) != KEYRING_STREAM)
    lines[index] = lines[index].replace(b'"payload":{"', b'"payload":{"x', 1)
    return lines


def link_across_a_boundary(lines: list[bytes]) -> int:
    """The newest record of a stream whose predecessor is in an earlier chunk."""
    seen: dict[str, int] = {}
    crossing: dict[str, int] = {}
    for index, line in enumerate(lines):
        stream = stream_of(line)
        earlier = seen.get(stream)
        seen[stream] = index
        crossing.pop(stream, None)
        if earlier is not None and earlier // CHUNK < index // CHUNK and stream != KEYRING_STREAM:
            crossing[stream] = index
    assert crossing, "no stream crosses a chunk boundary"
    return min(crossing.values())


def break_link_across_a_boundary(lines: list[bytes]) -> list[bytes]:
    """That record names another digest as its predecessor."""
    index = link_across_a_boundary(lines)
    line = lines[index]
    at = line.rindex(b',"prev":"') + 9
    digit = b"0" if line[at : at + 1] != b"0" else b"1"
    lines[index] = line[:at] + digit + line[at + 1 :]
    return lines


def move_across_chunks(lines: list[bytes]) -> list[bytes]:
    index = next(i for i in range(CHUNK + 1, 2 * CHUNK) if stream_of(lines[i]) != KEYRING_STREAM)
    return [*lines[:index], *lines[index + 1 : 3 * CHUNK], lines[index], *lines[3 * CHUNK :]]


@pytest.mark.parametrize(
    "tamper", [change_in_second_chunk, break_link_across_a_boundary, move_across_chunks]
)
def test_a_tampered_bundle_gets_the_same_report_over_processes(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[list[bytes]], list[bytes]]
) -> None:
    write_lines(bundle, tamper(lines_of(bundle)))
    assert spread_scan(bundle) is None  # the parallel path saw it and handed over
    spread, single = both(bundle, monkeypatch)
    assert not spread.ok
    assert spread.to_json() == single.to_json()


def test_a_link_broken_across_a_boundary_is_caught_by_the_merge(bundle: Path) -> None:
    """No root to compare and the changed record's signature taken as checked: the worker
    accepts the chunk (the break is only visible across the boundary), the merge does not."""

    lines = lines_of(bundle)
    signed = {hashlib.sha256(b"\x00" + line).hexdigest().encode() for line in lines}
    assert scan_without_roots(bundle, signed) is not None
    lines = break_link_across_a_boundary(lines)
    write_lines(bundle, lines)
    assert scan_without_roots(bundle, signed) is None


def scan_without_roots(bundle: Path, verified: set[bytes]) -> tuple[Any, int] | None:
    """The parallel path with no checkpoint root to compare, the records whose leaf hashes
    (in hex) are in `verified` taken as having had their signatures checked."""
    source = Bundle(bundle)
    auditor = Auditor(source.keyring(), workers=2)
    auditor.verified = set(verified)
    return parallel.parallel_scan(auditor, source, AuditReport(origin=""), {})


def test_a_forged_signature_on_a_stream_s_newest_record_is_caught_on_the_pool(
    bundle: Path,
) -> None:
    """No root to compare and no later record linking to it: only the newest signature's check
    can see it."""
    lines = lines_of(bundle)
    newest = {stream_of(line): index for index, line in enumerate(lines)}
    index = max(i for stream, i in newest.items() if stream != KEYRING_STREAM)
    assert index >= 2 * CHUNK  # in a later chunk than the first
    assert scan_without_roots(bundle, set()) is not None
    line = lines[index]
    at = line.rindex(b',"sig":"') + 8
    lines[index] = line[:at] + (b"B" if line[at : at + 1] == b"A" else b"A") + line[at + 1 :]
    write_lines(bundle, lines)
    assert scan_without_roots(bundle, set()) is None
    forged = hashlib.sha256(b"\x00" + lines[index]).hexdigest().encode()
    assert scan_without_roots(bundle, {forged}) is not None  # it was the signature alone


def drop_the_last_record(bundle: Path) -> None:
    write_lines(bundle, lines_of(bundle)[:-1])


def cut_the_last_newline(bundle: Path) -> None:
    (bundle / "records.jsonl").write_bytes((bundle / "records.jsonl").read_bytes()[:-1])


def add_a_place(bundle: Path) -> None:
    with (bundle / "stored.csv").open("ab") as handle:
        handle.write(b"somewhere,1,thing\n")


@pytest.mark.parametrize("damage", [drop_the_last_record, cut_the_last_newline, add_a_place])
def test_files_of_uneven_length_are_handed_to_the_one_process_audit(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path], None]
) -> None:
    damage(bundle)
    assert spread_scan(bundle) is None
    spread, single = both(bundle, monkeypatch)
    assert not spread.ok
    assert spread.to_json() == single.to_json()
