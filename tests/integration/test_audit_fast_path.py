"""The audit's fast path: records read in batches, envelopes matched without being built.

It must change nothing but the speed: the batches hold exactly the records and end with the same
errors, the fast match reads exactly what the full envelope reader reads, and every tampering is
reported word for word as the full path reports it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import auditor as auditor_module
from ledger.audit import bundle as bundle_module
from ledger.audit.auditor import Auditor, _Keys
from ledger.audit.bundle import Bundle, BundleError, DatabaseSource
from ledger.audit.fastform import FastForm
from ledger.integrity.key_history import KEYRING_STREAM
from ledger.integrity.scan import scan
from ledger.runtime import open_runtime
from ledger.workload import generate
from tests.conftest import Ledger
from tests.trust_support import CliLedger, make_cli_ledger


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> CliLedger:
    made = make_cli_ledger(tmp_path_factory.mktemp("fast"))
    made.export()
    return made


@pytest.fixture
def bundle(source: CliLedger, tmp_path: Path) -> Path:
    shutil.copytree(source.folder / "bundle", tmp_path / "bundle")
    return tmp_path / "bundle"


def lines_of(bundle: Path, name: str = "records.jsonl") -> list[bytes]:
    return (bundle / name).read_bytes().split(b"\n")[:-1]


def write_lines(bundle: Path, lines: list[bytes], name: str = "records.jsonl") -> None:
    (bundle / name).write_bytes(b"".join(line + b"\n" for line in lines))


def flatten(batches: Iterator[tuple[list[bytes], list[bytes]]]) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    for datas, places in batches:
        assert len(datas) == len(places)
        found.extend(zip(datas, places, strict=True))
    return found


def records_until_error(bundle: Bundle) -> tuple[list[tuple[bytes, bytes]], str | None]:
    got: list[tuple[bytes, bytes]] = []
    try:
        for item in bundle.records():
            got.append(item)
    except BundleError as exc:
        return got, str(exc)
    return got, None


def batches_until_error(bundle: Bundle) -> tuple[list[tuple[bytes, bytes]], str | None]:
    got: list[tuple[bytes, bytes]] = []
    try:
        for datas, places in bundle.batches():
            got.extend(zip(datas, places, strict=True))
    except BundleError as exc:
        return got, str(exc)
    return got, None


def test_batches_hold_exactly_the_records_even_when_blocks_cut_lines(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = Bundle(bundle)
    whole = list(source.records())
    assert len(whole) > 100
    for size in (1, 97, 4096):  # blocks far smaller than a record, and a few records long
        monkeypatch.setattr(bundle_module, "BATCH_BYTES", size)
        assert flatten(source.batches()) == whole


def cut_last_line(bundle: Path) -> None:
    data = (bundle / "records.jsonl").read_bytes()
    (bundle / "records.jsonl").write_bytes(data[:-40])


def drop_last_place(bundle: Path) -> None:
    write_lines(bundle, lines_of(bundle, "stored.csv")[:-1], "stored.csv")


def drop_middle_record(bundle: Path) -> None:
    lines = lines_of(bundle)
    write_lines(bundle, lines[:50] + lines[51:])


def place_without_newline(bundle: Path) -> None:
    data = (bundle / "stored.csv").read_bytes()
    (bundle / "stored.csv").write_bytes(data[:-1])


@pytest.mark.parametrize(
    "damage", [cut_last_line, drop_last_place, drop_middle_record, place_without_newline]
)
@pytest.mark.parametrize("block", [50, 1 << 22])
def test_batches_stop_where_records_stop_with_the_same_error(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path], None], block: int
) -> None:
    monkeypatch.setattr(bundle_module, "BATCH_BYTES", block)
    damage(bundle)
    source = Bundle(bundle)
    expected = records_until_error(source)
    assert batches_until_error(source) == expected
    if damage is place_without_newline:
        assert expected[1] is None  # the last line of stored.csv may lack its newline
    else:
        assert expected[1] is not None


def test_the_fast_match_reads_what_the_envelope_reader_reads(bundle: Path) -> None:
    source = Bundle(bundle)
    keyring = source.keyring()
    form = FastForm(keyring.origin.encode(), _Keys(keyring).windows())
    assert form.enabled
    accepted = 0
    records = [data for data, _ in source.records()]
    for data in records:
        fields = form.fields(data)
        env = scan(data)
        assert env is not None
        if fields is None:
            continue
        accepted += 1
        assert fields == (env.kid, env.prev, env.stream, str(env.version).encode(), env.type)
    assert accepted == len(records)


def test_the_fast_match_refuses_what_it_must_not_accept(bundle: Path) -> None:
    source = Bundle(bundle)
    keyring = source.keyring()
    windows = _Keys(keyring).windows()
    form = FastForm(keyring.origin.encode(), windows)
    data = next(d for d, _ in source.records() if scan(d) is not None and b'"version":2}' in d)
    assert form.fields(data) is not None
    env = scan(data)
    assert env is not None
    start, until = windows[env.kid]
    changed = [
        data.replace(b'"version":2}', b'"version":02}'),
        data.replace(b'"version":2}', b'"version":"2"}'),
        data.replace(b'"version":2}', b'"version":2} '),
        data.replace(keyring.origin.encode(), b"ledger.other/log", 1),
        data.replace(env.kid, b"0000000000000000", 1),
        data.replace(env.recorded_at, b"1999-01-01T00:00:00.000000Z"),
        data.replace(b',"prev":"', b',"prev" :"'),
        data.replace(b',"sig":"', b',"sig":"\\"'),
        data.replace(b'"type":"', b'"tipe":"'),
    ]
    for other in changed:
        assert other != data
        assert form.fields(other) is None, other
    # An origin the match cannot hold literally turns the fast path off.
    assert not FastForm(b'odd"origin', windows).enabled
    assert until > start


class _FullPathOnly(FastForm):
    def __init__(self, origin: bytes, windows: dict[bytes, tuple[bytes, bytes]]) -> None:
        super().__init__(origin, windows)
        self.enabled = False


def full_and_fast(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    source = Bundle(bundle)
    fast = Auditor(source.keyring()).audit(source)
    with monkeypatch.context() as patch:
        patch.setattr(auditor_module, "FastForm", _FullPathOnly)
        full = Auditor(source.keyring()).audit(source)
    return fast, full


def change_payload_byte(lines: list[bytes]) -> list[bytes]:
    lines[60] = lines[60].replace(b'"payload":{"', b'"payload":{"x', 1)
    return lines


def swap_two(lines: list[bytes]) -> list[bytes]:
    lines[70], lines[71] = lines[71], lines[70]
    return lines


def duplicate_one(lines: list[bytes]) -> list[bytes]:
    return [*lines[:80], lines[79], *lines[80:]]


def change_prev(lines: list[bytes]) -> list[bytes]:
    index = next(i for i, line in enumerate(lines) if b',"prev":"' in line and i > 40)
    at = lines[index].rindex(b',"prev":"') + 9
    digit = b"0" if lines[index][at : at + 1] != b"0" else b"1"
    lines[index] = lines[index][:at] + digit + lines[index][at + 1 :]
    return lines


def move_to_end(lines: list[bytes]) -> list[bytes]:
    return lines[:30] + lines[31:] + [lines[30]]


@pytest.mark.parametrize(
    "tamper", [change_payload_byte, swap_two, duplicate_one, change_prev, move_to_end]
)
def test_a_tampered_bundle_gets_the_same_report_from_the_fast_and_the_full_path(
    bundle: Path, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[list[bytes]], list[bytes]]
) -> None:
    write_lines(bundle, tamper(lines_of(bundle)))
    fast, full = full_and_fast(bundle, monkeypatch)
    assert not fast.ok
    assert fast.to_json() == full.to_json()


def test_a_changed_place_and_a_key_history_record_are_reported_the_same(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    places = lines_of(bundle, "stored.csv")
    places[90] = places[90].replace(b",", b",9", 1)
    write_lines(bundle, places, "stored.csv")
    records = lines_of(bundle)
    keyring = KEYRING_STREAM.encode()
    index = max(i for i, line in enumerate(records) if keyring in line)
    records[index] = records[index].replace(b'"payload":{"', b'"payload":{"y', 1)
    write_lines(bundle, records)
    fast, full = full_and_fast(bundle, monkeypatch)
    reasons = [p.reason for p in fast.problems]
    assert any("is stored as" in reason for reason in reasons), reasons
    assert fast.to_json() == full.to_json()


def test_a_clean_bundle_passes_both_paths_alike(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, full = full_and_fast(bundle, monkeypatch)
    assert fast.ok
    assert fast.to_json() == full.to_json()


def test_progress_is_reported_every_thousand_records(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_of(bundle)
    monkeypatch.setattr(bundle_module, "BATCH_BYTES", 3000)
    source = Bundle(bundle)
    shown: list[int] = []
    Auditor(source.keyring(), progress=shown.append).audit(source)
    count = len(lines)
    assert shown == [*range(0, count, 1000), count]


def test_the_live_batches_hold_exactly_the_rows(ledger: Ledger) -> None:
    generate(ledger.service, 120)
    runtime = open_runtime(ledger.settings, clock=ledger.clock)
    try:
        runtime.sequencer.catch_up()
        live = DatabaseSource(runtime.log_storage, runtime.store.signing.keyring)
        whole = list(live.records())
        assert len(whole) > 100
        assert flatten(live.batches()) == whole
        report = Auditor(live.keyring()).audit(live)
        assert report.ok, report.first_problem
        assert report.records == len(whole)
    finally:
        runtime.close()
