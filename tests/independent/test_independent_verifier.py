"""docs/ledger-format.md is enough to verify the ledger's output: a verifier written from it
alone (tests/independent/verifier.py) verifies the worked example and a freshly exported demo
bundle, reproduces every projection digest, and names the position of each corruption.

The bundle is made by the ledger's own command line in a subprocess; nothing here imports
the ledger.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.independent import verifier as v

DOC = v.DOCUMENT.read_text(encoding="utf-8")
LEDGER = Path(sys.executable).with_name("ledger")


def block(name: str) -> bytes:
    match = re.search(rf"```json {name}\n(.*?)\n```", DOC, re.S)
    assert match, f"no block {name} in the document"
    return match.group(1).encode("utf-8")


def value(label: str) -> str:
    match = re.search(rf"^{label}[^`\n]*`([^`]+)`", DOC, re.M)
    assert match, f"no line starting {label!r} in the document"
    return match.group(1)


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(v.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    outside = {name for name in imported if name not in sys.stdlib_module_names}
    assert outside == {"cryptography"}


# -- the worked example (section 8) ---------------------------------------------------------


def test_the_worked_example_verifies_record_by_record_and_as_a_chain() -> None:
    public = base64.b64decode(value("Public key \\(base64\\):"))
    assert v.key_id(public) == value("Key id:")
    types, personal = v.event_types(DOC), v.encrypted_members(DOC)
    previous = None
    for number in (1, 2):
        stored = block(f"worked-example-record-{number}")
        record = v.parse_canonical(stored)
        assert set(record) == v.RECORD_MEMBERS
        message = v.record_message(record)
        assert message == block(f"worked-example-message-{number}")
        assert v.ed25519_verifies(public, base64.b64decode(record["sig"]), message)
        assert record["sig"] == value(f"Signature of record {number}")
        assert v.leaf_hash(stored).hex() == value(f"Digest of record {number}")
        assert record["prev"] == previous
        assert record["version"] == number
        assert v._payload(record, types[record["type"]], personal.get(record["type"], set())) == []
        previous = v.leaf_hash(stored).hex()


def test_a_changed_byte_in_the_worked_example_fails_its_signature() -> None:
    public = base64.b64decode(value("Public key \\(base64\\):"))
    stored = block("worked-example-record-2").replace(b'"participants":14', b'"participants":15')
    record = v.parse_canonical(stored)
    assert not v.ed25519_verifies(public, base64.b64decode(record["sig"]), v.record_message(record))


def test_the_certificate_id_example_follows_the_documented_check_character_rule() -> None:
    example = value("Certificate id of the example:")
    assert v.certificate_id_problem(example) is None
    assert v.luhn32_check("7KQ2M9XD3FH") == example[-1] == "W"
    assert v.certificate_stream(example) == value("Certificate stream of the example:")
    for wrong in ("LT-7KQ2-M9XD-3FHV", "LT-7KQ2-M9DX-3FHW", "LT-7KQ2-M9XD-3FHO"):
        assert v.certificate_id_problem(wrong) is not None


def test_the_documented_derived_stream_ids_are_uuid5_in_the_ledger_namespace() -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://clustercoaching.eu/ledger")
    assert str(namespace) in DOC
    assert str(uuid.uuid5(namespace, "catalogue")) in DOC
    assert str(uuid.uuid5(namespace, "keyring")) in DOC


def test_the_event_table_types_every_member_with_a_documented_word() -> None:
    for name, members in v.event_types(DOC).items():
        for member, kind in members.items():
            found = v.value_problem(object(), kind, member) or ""
            assert "unknown type" not in found, f"{name}.{member}: {kind}"


# -- a fresh demo bundle --------------------------------------------------------------------


def _ledger(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(LEDGER), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"ledger {' '.join(args)} failed: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`ledger keys init`, `ledger demo`, `ledger export` in a temporary folder."""
    root = tmp_path_factory.mktemp("independent")
    env = {k: val for k, val in os.environ.items() if not k.startswith("LEDGER_")}
    env |= {"LEDGER_DATA_DIR": str(root / "data"), "LEDGER_KEYS_DIR": str(root / "keys")}
    _ledger(env, "keys", "init")
    _ledger(env, "demo")
    _ledger(env, "export", str(root / "bundle"))
    return root / "bundle", env


@pytest.fixture
def copy(demo: tuple[Path, dict[str, str]], tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(demo[0], target)
    return target


def test_a_fresh_demo_bundle_verifies_with_no_problems(demo: tuple[Path, dict[str, str]]) -> None:
    report = v.verify_bundle(demo[0])
    assert report.problems == []
    assert report.records > 500
    assert report.signatures == report.records
    assert report.verified_size == report.records


def test_the_demo_bundle_begins_with_its_key_history_genesis(
    demo: tuple[Path, dict[str, str]],
) -> None:
    first = json.loads((demo[0] / "records.jsonl").read_bytes().split(b"\n")[0])
    assert first["type"] == "keyring.genesis"
    assert first["stream"] == v.KEYRING_STREAM
    assert first["version"] == 1


def test_replayed_projection_digests_equal_the_exported_ones(
    demo: tuple[Path, dict[str, str]],
) -> None:
    exported = json.loads((demo[0] / "projections.json").read_text(encoding="utf-8"))
    assert set(exported) == set(v.PROJECTIONS)
    report = v.verify_bundle(demo[0])
    assert report.projections == {name: entry["digest"] for name, entry in exported.items()}


def test_the_bundle_chains_to_the_trust_root_computed_from_its_genesis(
    demo: tuple[Path, dict[str, str]],
) -> None:
    bundle = demo[0]
    origin = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["origin"]
    genesis = (bundle / "records.jsonl").read_bytes().split(b"\n")[0]
    root = v.trust_root(origin, genesis)
    assert v.verify_bundle(bundle, trust=root + b"\n").problems == []
    forged = root.replace(v.leaf_hash(genesis).hex().encode(), b"0" * 64)
    assert v.verify_bundle(bundle, trust=forged).at(0)
    assert v.fingerprint(root) == "sha256:" + hashlib.sha256(root).hexdigest()


def test_the_ledgers_trust_root_command_prints_the_documented_trust_root(
    demo: tuple[Path, dict[str, str]],
) -> None:
    bundle, env = demo
    help_text = subprocess.run(
        [str(LEDGER), "--help"], env=env, capture_output=True, text=True, check=False
    ).stdout
    if "trust-root" not in help_text:
        pytest.skip("this build of the ledger has no `ledger trust-root` command yet")
    origin = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["origin"]
    genesis = (bundle / "records.jsonl").read_bytes().split(b"\n")[0]
    printed = _ledger(env, "trust-root")
    assert printed.encode().splitlines()[0] == v.trust_root(origin, genesis)


def test_the_newest_checkpoint_as_a_trusted_checkpoint_file_is_reproduced(
    demo: tuple[Path, dict[str, str]],
) -> None:
    lines = (demo[0] / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    note = json.loads(lines[-1])["note"]
    assert v.verify_bundle(demo[0], trusted_checkpoint=note).problems == []
    size = note.split("\n")[1]
    tampered = note.replace(f"\n{size}\n", "\n999999\n", 1)
    assert v.verify_bundle(demo[0], trusted_checkpoint=tampered).at(0)


# -- named corruptions ----------------------------------------------------------------------


def _records(bundle: Path) -> list[bytes]:
    return (bundle / "records.jsonl").read_bytes().split(b"\n")[:-1]


def _stored(bundle: Path) -> list[bytes]:
    return (bundle / "stored.csv").read_bytes().split(b"\n")[:-1]


def _write(bundle: Path, name: str, lines: list[bytes]) -> None:
    (bundle / name).write_bytes(b"".join(line + b"\n" for line in lines))


def _position_with_successor(records: list[bytes]) -> tuple[int, int]:
    """A position in the middle whose stream has a later record, and that record's position."""
    streams = [json.loads(line)["stream"] for line in records]
    for i in range(len(records) // 2, len(records)):
        for j in range(i + 1, len(records)):
            if streams[j] == streams[i]:
                return i, j
    raise AssertionError("no stream with two records in the second half")


def test_a_changed_byte_in_one_record_fails_at_that_position(copy: Path) -> None:
    records = _records(copy)
    i, _ = _position_with_successor(records)
    records[i] = records[i].replace(b'"recorded_at":"20', b'"recorded_at":"21', 1)
    _write(copy, "records.jsonl", records)
    report = v.verify_bundle(copy)
    reasons = " ".join(report.at(i))
    assert "signature does not verify" in reasons
    assert "does not match the digest" in reasons
    assert all(p.position >= i for p in report.problems if "reproduce" not in p.reason)


def test_a_removed_line_is_named_where_its_stream_breaks(copy: Path) -> None:
    records, stored = _records(copy), _stored(copy)
    i, j = _position_with_successor(records)
    del records[i], stored[i + 1]
    _write(copy, "records.jsonl", records)
    _write(copy, "stored.csv", stored)
    report = v.verify_bundle(copy)
    assert any("follows version" in reason for reason in report.at(j - 1))
    assert any("manifest counts" in p.reason for p in report.problems)
    assert any("truncated" in p.reason for p in report.problems)


def test_a_removed_record_line_alone_is_named_at_its_position(copy: Path) -> None:
    records = _records(copy)
    i, _ = _position_with_successor(records)
    del records[i]
    _write(copy, "records.jsonl", records)
    report = v.verify_bundle(copy)
    assert any("is stored as" in reason for reason in report.at(i))
    record_problems = [
        p for p in report.problems if p.position >= 0 and "truncated" not in p.reason
    ]
    assert min(p.position for p in record_problems) == i


def test_a_swapped_pair_of_lines_is_named_at_the_first_of_them(copy: Path) -> None:
    records = _records(copy)
    streams = [json.loads(line)["stream"] for line in records]
    i = next(k for k in range(len(records) // 2, len(records) - 1) if streams[k] != streams[k + 1])
    records[i], records[i + 1] = records[i + 1], records[i]
    _write(copy, "records.jsonl", records)
    report = v.verify_bundle(copy)
    assert any("is stored as" in reason for reason in report.at(i))
    assert any("is stored as" in reason for reason in report.at(i + 1))


def test_a_swapped_pair_within_one_stream_breaks_its_version_order(copy: Path) -> None:
    records, stored = _records(copy), _stored(copy)
    streams = [json.loads(line)["stream"] for line in records]
    i = next(k for k in range(1, len(records) - 1) if streams[k] == streams[k + 1])
    records[i], records[i + 1] = records[i + 1], records[i]
    stored[i + 1], stored[i + 2] = stored[i + 2], stored[i + 1]
    _write(copy, "records.jsonl", records)
    _write(copy, "stored.csv", stored)
    report = v.verify_bundle(copy)
    assert any("version" in reason for reason in report.at(i))


def test_a_wrong_digest_in_projections_json_names_the_projection_and_its_position(
    copy: Path,
) -> None:
    exported = json.loads((copy / "projections.json").read_text(encoding="utf-8"))
    exported["trainer_status"]["digest"] = "0" * 64
    (copy / "projections.json").write_text(
        json.dumps(exported, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    report = v.verify_bundle(copy)
    position = exported["trainer_status"]["position"]
    assert [p.position for p in report.problems] == [position]
    assert "projection trainer_status" in report.problems[0].reason


def test_a_manifest_whose_counts_differ_from_the_files_fails(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["records"] += 1
    (copy / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    assert [p.reason for p in v.verify_bundle(copy).problems] == [
        f"manifest counts {manifest['records']} records,"
        f" records.jsonl holds {manifest['records'] - 1}"
    ]


def test_carriage_returns_in_a_bundle_fail(copy: Path) -> None:
    data = (copy / "stored.csv").read_bytes().replace(b"\n", b"\r\n")
    (copy / "stored.csv").write_bytes(data)
    report = v.verify_bundle(copy)
    assert any("carriage return" in p.reason for p in report.problems)


def test_a_key_ring_view_that_differs_from_the_key_history_fails(copy: Path) -> None:
    keyring = json.loads((copy / "keyring.json").read_text(encoding="utf-8"))
    keyring["keys"][0]["valid_until"] = "2030-01-01T00:00:00.000000Z"
    (copy / "keyring.json").write_text(
        json.dumps(keyring, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    report = v.verify_bundle(copy)
    assert any("differs from the key history" in p.reason for p in report.problems)


def test_a_bundle_without_a_genesis_at_position_zero_fails_there(copy: Path) -> None:
    records, stored = _records(copy), _stored(copy)
    _write(copy, "records.jsonl", records[1:])
    _write(copy, "stored.csv", [stored[0], *stored[2:]])
    report = v.verify_bundle(copy)
    assert any("not keyring.genesis" in reason for reason in report.at(0))


def test_the_ledgers_own_audit_also_rejects_a_manifest_whose_counts_differ(
    demo: tuple[Path, dict[str, str]], copy: Path
) -> None:
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["records"] += 1
    (copy / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    done = subprocess.run(
        [str(LEDGER), "audit", str(copy), "--json"],
        env=demo[1],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    reasons = [p["reason"] for p in json.loads(done.stdout)["problems"]]
    assert f"manifest counts {manifest['records']} records" in " ".join(reasons)
