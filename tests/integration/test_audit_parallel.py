"""The bundle audit over processes: the same report as the one-process audit, word for word.

Chunks are made small here so that a small ledger spans many of them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.audit import parallel
from ledger.audit.auditor import Auditor, AuditReport, _Keys
from ledger.audit.bundle import Bundle
from ledger.audit.fastform import FastForm
from ledger.integrity.key_history import KEYRING_STREAM
from tests.trust_support import CliLedger, make_cli_ledger, ok

CHUNK = 16


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> CliLedger:
    made = make_cli_ledger(tmp_path_factory.mktemp("parallel"))
    made.export()
    return made


@pytest.fixture(params=["compiled", "python"])
def bundle(
    source: CliLedger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Path:
    """A copy of the export, audited over processes in chunks of CHUNK records, with the
    per-record checks compiled or in Python (the workers are forked: they see the choice)."""
    shutil.copytree(source.folder / "bundle", tmp_path / "bundle")
    monkeypatch.setattr(parallel, "MIN_RECORDS", 0)
    monkeypatch.setattr(parallel, "MIN_CHUNK", CHUNK)
    if request.param == "python":
        monkeypatch.setattr(parallel, "_chunkscan", None)
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


# -- the compiled per-record checks against the Python ones ---------------------------------


def test_the_compiled_checks_are_built_and_make_the_hash_inputs_as_python_does(
    source: CliLedger,
) -> None:
    compiled = parallel._chunkscan
    assert compiled is not None  # the install built it: the audit's speed depends on it
    block = (source.folder / "bundle" / "records.jsonl").read_bytes()
    lines = block.split(b"\n")[:-1]
    assert compiled.prefixed(block, 0) == [b"\x00" + line for line in lines]
    assert compiled.prefixed(block[:-1], 0) is None  # no newline at the end
    assert compiled.prefixed(b"", 0) == []
    assert compiled.prefixed(b"\n\n", 7) == [b"\x07", b"\x07"]
    level = [hashlib.sha256(line).digest() for line in lines[:9]]
    assert compiled.pairs(level) == parallel._pairs(level)
    assert len(compiled.pairs(level)) == 4  # the odd last one waits
    with pytest.raises(ValueError, match="32-byte"):
        compiled.pairs([b"short", b"x" * 32])


@dataclass(frozen=True)
class Material:
    lines: list[bytes]
    places: list[bytes]
    origin: bytes
    windows: dict[bytes, tuple[bytes, bytes]]


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    """The demo's records after a rotation of the records key: the key ring's records too."""
    made = make_cli_ledger(tmp_path_factory.mktemp("rotated"))
    ok(made.run("keys", "rotate"))
    made.export()
    folder = made.folder / "bundle"
    exported = Bundle(folder)
    keyring = exported.keyring()
    places = (folder / "stored.csv").read_bytes().split(b"\n")[1:-1]
    windows = _Keys(keyring).windows()
    return Material(lines_of(folder), places, keyring.origin.encode(), windows)


def both_checks(
    material: Material, lines: list[bytes], places: list[bytes], first: int,
    windows: dict[bytes, tuple[bytes, bytes]] | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """(compiled, Python) per-record checks of these records as one chunk from `first`."""
    compiled = parallel._chunkscan
    assert compiled is not None
    windows = material.windows if windows is None else windows
    form = FastForm(material.origin, windows)
    leaves = [hashlib.sha256(b"\x00" + line).digest() for line in lines]
    stored = b"".join(place + b"\n" for place in places)
    fast = compiled.check(
        [b"\x00" + line for line in lines], stored, leaves, first, form.origin_part, windows,
        KEYRING_STREAM.encode(),
    )  # fmt: skip
    slow = (
        parallel._check_records(form, lines, places, leaves, first)
        if len(places) == len(lines)
        else None
    )
    return fast, slow


def test_both_checks_accept_the_export_alike_from_the_start_and_from_within(
    material: Material,
) -> None:
    fast, slow = both_checks(material, material.lines, material.places, 0)
    assert fast is not None
    assert fast == slow
    firsts, lasts, kids, specials = fast
    assert firsts.keys() <= lasts.keys()
    assert specials[0] == 0  # position 0 is left to the key history's checks
    assert len(specials) > 1  # and so are the key ring's records
    assert len(lasts) > 10
    assert kids
    fast, slow = both_checks(material, material.lines[CHUNK:], material.places[CHUNK:], CHUNK)
    assert fast is not None
    assert fast == slow
    assert min(position for _, _, position in fast[0].values()) == CHUNK


TAIL_WORDS = (b'"prev"', b'"recorded_at"', b'"sig"', b'"stream"', b'"type"', b'"version"')


@st.composite
def damage(draw: st.DrawFn, size: int) -> tuple[str, int, int, int]:
    """One change to the records or their places: what, which record, where, which byte."""
    kind = draw(
        st.sampled_from(["byte", "tail byte", "head byte", "drop byte", "add byte", "swap",
                         "repeat", "place byte", "drop place", "window"])
    )  # fmt: skip
    return (
        kind,
        draw(st.integers(0, size - 1)),
        draw(st.integers(0, 1 << 30)),
        draw(st.sampled_from([*b'0afz",:{}\\\n 1', 0xFF])),
    )


def damaged(
    material: Material, change: tuple[str, int, int, int]
) -> tuple[list[bytes], list[bytes], dict[bytes, tuple[bytes, bytes]]]:
    kind, index, where, byte = change
    lines, places, windows = list(material.lines), list(material.places), dict(material.windows)
    line = lines[index]
    at = {
        "tail byte": len(line) - 1 - where % 220,
        "head byte": where % 60,
    }.get(kind, where % len(line))
    if kind in ("byte", "tail byte", "head byte"):
        lines[index] = line[:at] + bytes([byte]) + line[at + 1 :]
    elif kind == "drop byte":
        lines[index] = line[:at] + line[at + 1 :]
    elif kind == "add byte":
        lines[index] = line[:at] + bytes([byte]) + line[at:]
    elif kind == "swap" and index + 1 < len(lines):
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    elif kind == "repeat":
        lines.insert(index, line)
    elif kind == "place byte":
        place = places[index]
        spot = where % max(1, len(place))
        places[index] = place[:spot] + bytes([byte]) + place[spot + 1 :]
    elif kind == "drop place":
        del places[index]
    elif kind == "window":
        kid = sorted(windows)[where % len(windows)]
        start, _ = windows[kid]
        stamps = sorted(json.loads(line)["recorded_at"].encode() for line in material.lines)
        windows[kid] = (start, stamps[where % len(stamps)])  # records after it fall outside
    return lines, places, windows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_checks_never_accept_what_the_python_checks_refuse(
    material: Material, data: st.DataObject
) -> None:
    """Whatever the damage, the compiled checks either refuse (the Python ones then decide) or
    find exactly what the Python ones find."""
    change = data.draw(damage(len(material.lines)))
    lines, places, windows = damaged(material, change)
    first = data.draw(st.sampled_from([0, CHUNK]))
    fast, slow = both_checks(material, lines[first:], places[first:], first, windows)
    event(f"{change[0]}: {'accepted' if fast is not None else 'refused'}")
    if fast is not None:
        assert fast == slow


def test_damage_the_checks_cannot_see_is_accepted_by_both_and_the_rest_refused_by_both(
    material: Material,
) -> None:
    """The property above is not empty: both accept a payload changed in a stream's newest
    record (only its signature and the roots can tell), and both refuse a broken link, a
    stored place that differs, a version with a leading zero, a record outside its key's
    window."""
    newest = {stream_of(line): index for index, line in enumerate(material.lines)}
    index = max(i for stream, i in newest.items() if stream != KEYRING_STREAM)
    line = material.lines[index]
    lines = list(material.lines)
    lines[index] = line.replace(b'"payload":{"', b'"payload":{"x', 1)
    fast, slow = both_checks(material, lines, material.places, 0)
    assert fast is not None
    assert fast == slow

    crossing = link_across_a_boundary(list(material.lines))
    broken = break_link_across_a_boundary(list(material.lines))
    earlier = max(i for i in range(crossing) if stream_of(material.lines[i]) == stream_of(
        material.lines[crossing]))  # fmt: skip
    assert both_checks(material, broken[earlier:], material.places[earlier:], earlier) == (
        None,
        None,
    )
    places = list(material.places)
    places[index] = places[index].replace(b",", b";", 1)
    assert both_checks(material, material.lines, places, 0) == (None, None)
    lines = list(material.lines)
    lines[index] = line.replace(b'"version":', b'"version":0', 1)
    assert both_checks(material, lines, material.places, 0) == (None, None)
    kid = line[19:35]
    narrowed = {**material.windows, kid: (material.windows[kid][0], b"2000")}
    assert both_checks(material, material.lines, material.places, 0, narrowed) == (None, None)
