"""What `ledger audit` says first: the position of a changed record, the file and line of a cut or
corrupt bundle, and on a pass exactly what was checked and which trust root it chains to.

One ledger is made with the command line (`ledger keys init`, `ledger demo`, `ledger export`);
every test audits its own copy of the bundle with `ledger audit` as a separate process.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.integrity.key_history import KEYRING_STREAM
from tests.trust_support import (
    ORIGIN,
    CliLedger,
    bare_env,
    cli,
    first_line,
    make_cli_ledger,
    no_traceback,
    read_json,
    record_lines,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> CliLedger:
    made = make_cli_ledger(tmp_path_factory.mktemp("audited"))
    made.export()
    return made


@pytest.fixture
def bundle(source: CliLedger, tmp_path: Path) -> Path:
    """A copy of the exported bundle, with the trust root beside it, on an auditor's machine."""
    shutil.copytree(source.folder / "bundle", tmp_path / "bundle")
    shutil.copy(source.trust_root, tmp_path / "trust-root.json")
    return tmp_path / "bundle"


def audit(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = cli("audit", bundle.name, *args, env=bare_env(), cwd=bundle.parent)
    no_traceback(result)
    return result


def lines_of(bundle: Path) -> list[bytes]:
    return (bundle / "records.jsonl").read_bytes().split(b"\n")[:-1]


def write_lines(bundle: Path, lines: list[bytes], *, last_newline: bool = True) -> None:
    data = b"\n".join(lines) + (b"\n" if last_newline else b"")
    (bundle / "records.jsonl").write_bytes(data)


def test_a_single_changed_record_names_its_own_position_in_the_first_line(bundle: Path) -> None:
    lines = lines_of(bundle)
    position = 479
    assert len(lines) > position + 10, "the demo ledger is smaller than this test assumes"
    line = lines[position]
    at = line.index(b'"actor":"') + len(b'"actor":"')  # a letter inside a string of the payload
    lines[position] = line[:at] + (b"x" if line[at : at + 1] != b"x" else b"y") + line[at + 1 :]
    write_lines(bundle, lines)

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1
    assert first_line(failed).startswith(f"FAIL at log position {position}: ")


def test_a_records_file_cut_in_the_middle_of_a_line_fails_naming_file_and_line(
    bundle: Path,
) -> None:
    data = (bundle / "records.jsonl").read_bytes()
    starts = [0, *(i + 1 for i, b in enumerate(data) if b == 10)]
    cut = 300
    (bundle / "records.jsonl").write_bytes(data[: starts[cut] + 40])  # inside line 301

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1
    head = first_line(failed)
    assert head.startswith("FAIL at log position ")
    assert f"records.jsonl line {cut + 1} does not end in a newline" in head
    assert "truncated" in head


def test_a_corrupt_line_fails_naming_file_and_line(bundle: Path) -> None:
    lines = lines_of(bundle)
    lines[200] = b"this line is not JSON"
    write_lines(bundle, lines)

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1
    assert first_line(failed).startswith(
        "FAIL at log position 200: records.jsonl line 201: stored bytes are not a record"
    )


def test_a_deleted_line_fails_without_a_traceback(bundle: Path) -> None:
    lines = lines_of(bundle)
    del lines[200]
    write_lines(bundle, lines)

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1
    head = first_line(failed)
    assert head.startswith("FAIL at log position ")
    assert "a record is missing from the bundle" in head
    assert "at 200: record " in failed.stdout


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def expected_counts(bundle: Path) -> dict[str, int]:
    stored = (bundle / "stored.csv").read_text().splitlines()[1:]
    streams = {line.split(",")[0] for line in stored}
    return {
        "records": len(record_lines(bundle)),
        "streams": len(streams),
        "checkpoints": len((bundle / "checkpoints.jsonl").read_text().splitlines()),
        "key_history": sum(1 for line in stored if line.startswith(KEYRING_STREAM + ",")),
        "keys": len(read_json(bundle / "keyring.json")["keys"]),
    }


def test_the_pass_line_states_exactly_what_was_checked(bundle: Path, source: CliLedger) -> None:
    counts = expected_counts(bundle)
    assert counts["key_history"] == 1
    assert counts["keys"] == 2
    passed = audit(bundle, "--trust", "trust-root.json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    head = first_line(passed)
    n, s = counts["records"], counts["streams"]
    assert head.startswith(f"PASS: {n:,} records in {s:,} streams, ")
    assert (
        f", {plural(counts['checkpoints'], 'checkpoint')} (roots reproduced up to size {n:,})"
        in head
    )
    assert f", {s:,} of {n:,} signatures (the newest record of each stream" in head
    assert (
        f", {plural(counts['key_history'], 'key-history record')} ({plural(counts['keys'], 'key')})"
        in head
    )
    assert f"; trust root {source.fingerprint()} (the trust root given);" in head
    assert head.endswith("; witnesses: none required")

    deep = audit(bundle, "--trust", "trust-root.json", "--deep")
    assert deep.returncode == 0
    assert f", {n:,} of {n:,} signatures (every record)," in first_line(deep)


def test_without_a_trust_root_the_audit_says_not_pinned_and_exits_3(
    bundle: Path, source: CliLedger
) -> None:
    counts = expected_counts(bundle)
    unpinned = audit(bundle)
    assert unpinned.returncode == 3
    head = first_line(unpinned)
    assert head.startswith(f"CONSISTENT, NOT PINNED: {counts['records']:,} records in ")
    assert f"(its genesis is {source.fingerprint()})" in head
    assert "PASS" not in unpinned.stdout
    assert "NOT PINNED" in unpinned.stderr
    assert "--trust FILE" in unpinned.stderr


def test_trust_on_first_use_pins_the_ledger_and_a_second_one_of_the_same_origin_fails(
    bundle: Path, source: CliLedger, tmp_path: Path
) -> None:
    known = tmp_path / "known_ledgers"
    tofu = ("--trust-on-first-use", "--known-ledgers", str(known))
    first = audit(bundle, *tofu)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first_line(first).startswith("PASS: ")
    assert f"trust root {source.fingerprint()} (recorded now (trust on first use))" in first_line(
        first
    )
    assert known.read_text() == f"{ORIGIN} {source.fingerprint()}\n"

    again = audit(bundle, *tofu)
    assert again.returncode == 0
    assert f"trust root {source.fingerprint()} (known ledger)" in first_line(again)

    other = make_cli_ledger(tmp_path / "other", demo=False)  # same origin, its own keys
    assert other.fingerprint() != source.fingerprint()
    shutil.copytree(other.export(), tmp_path / "other-bundle")
    changed = audit(tmp_path / "other-bundle", *tofu)
    assert changed.returncode == 1
    head = first_line(changed)
    assert head.startswith(f"FAIL at log position 0: THE LEDGER {ORIGIN} HAS CHANGED ITS IDENTITY")
    assert source.fingerprint() in head
    assert other.fingerprint() in head
    assert known.read_text() == f"{ORIGIN} {source.fingerprint()}\n"  # the pin is kept
