"""Export, then audit with the database gone; a crash mid-burst loses nothing and breaks nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from ledger.audit.auditor import Auditor
from ledger.audit.bundle import Bundle, DatabaseSource
from ledger.config import Settings, parse_database_url
from ledger.runtime import open_runtime
from ledger.workload import generate
from tests.conftest import Ledger
from tests.rawsql import RawRows

ROOT = Path(__file__).resolve().parents[2]


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATA_DIR=str(settings.data_dir),
        LEDGER_KEYS_DIR=str(settings.keys_dir),
        LEDGER_ORIGIN=settings.origin,
    )
    if settings.database_url:
        env["LEDGER_DATABASE_URL"] = settings.database_url
    env["PYTHONPATH"] = str(ROOT)
    return env


def ledger_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def drop_database(settings: Settings) -> None:
    if settings.database_url is None:
        shutil.rmtree(settings.data_dir)
        return
    target = parse_database_url(settings.database_url)
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{target.schema}" CASCADE')


def test_an_export_audits_clean_with_the_database_gone_and_fails_on_one_changed_byte(
    ledger: Ledger, tmp_path: Path
) -> None:
    generate(ledger.service, 300)
    env = env_for(ledger.settings)
    exported = ledger_cli("export", str(tmp_path / "bundle"), env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "exported" in exported.stdout
    root = ledger_cli("trust-root", env=env, cwd=tmp_path)
    assert root.returncode == 0, root.stderr
    ledger.store.close()
    drop_database(ledger.settings)

    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    shutil.copytree(tmp_path / "bundle", elsewhere / "bundle")
    (elsewhere / "trust-root.json").write_text(root.stdout)
    bare = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    unpinned = ledger_cli("audit", "bundle", env=bare, cwd=elsewhere)
    assert unpinned.returncode == 3, unpinned.stdout + unpinned.stderr
    assert "PASS" not in unpinned.stdout
    assert "NOT PINNED" in unpinned.stdout
    passed = ledger_cli("audit", "bundle", "--trust", "trust-root.json", env=bare, cwd=elsewhere)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("PASS: ")
    as_json = json.loads(
        ledger_cli(
            "audit",
            "bundle",
            "--json",
            "--deep",
            "--trust",
            "trust-root.json",
            env=bare,
            cwd=elsewhere,
        ).stdout
    )
    assert as_json["ok"] is True
    assert as_json["records"] == as_json["newest_checkpoint"] >= 300
    assert as_json["signatures_checked"] == as_json["records"]

    records = elsewhere / "bundle" / "records.jsonl"
    data = bytearray(records.read_bytes())
    line_starts = [0, *[i + 1 for i, b in enumerate(data) if b == 10][:-1]]
    target = line_starts[150] + 60  # inside the 151st record
    data[target] = ord("#") if data[target] != ord("#") else ord("%")
    records.write_bytes(bytes(data))
    failed = ledger_cli("audit", "bundle", env=bare, cwd=elsewhere)
    assert failed.returncode == 1
    assert "FAIL at log position" in failed.stdout
    report = json.loads(ledger_cli("audit", "bundle", "--json", env=bare, cwd=elsewhere).stdout)
    assert report["ok"] is False
    assert report["first_problem"]["position"] <= 150


def test_cli_export_then_audit_names_the_position_of_an_sql_edit(
    ledger: Ledger, tmp_path: Path
) -> None:
    generate(ledger.service, 120)
    env = env_for(ledger.settings)
    assert ledger_cli("export", str(tmp_path / "before"), env=env, cwd=tmp_path).returncode == 0
    raw = RawRows(ledger.settings)
    nid, _, _, _, state = raw.rows()[42]
    raw.run(
        "UPDATE {events} SET state = ? WHERE {nid} = ?",
        (state.replace(b'"actor":"', b'"actor":"X'), nid),
    )
    assert ledger_cli("export", str(tmp_path / "after"), env=env, cwd=tmp_path).returncode == 0
    trusted = tmp_path / "trusted.txt"
    trusted.write_text(Bundle(tmp_path / "before").checkpoints()[-1][1])
    audited = ledger_cli(
        "audit",
        str(tmp_path / "after"),
        "--trusted-checkpoint",
        str(trusted),
        "--json",
        env=env,
        cwd=tmp_path,
    )
    assert audited.returncode == 1
    assert json.loads(audited.stdout)["first_problem"]["position"] <= 42


def test_a_killed_writer_leaves_no_gap_no_duplicate_and_a_clean_audit(ledger: Ledger) -> None:
    env = env_for(ledger.settings)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.procs.burst", "100000"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    written = 0
    for line in writer.stdout:
        if line.startswith("wrote"):
            written += 1
        if written >= 400:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    runtime = open_runtime(ledger.settings, clock=ledger.clock)
    try:
        sequenced_before = runtime.public_log.size()
        runtime.sequencer.catch_up()
        size = runtime.public_log.size()
        events = sum(1 for _ in runtime.log_storage.all_events())
        entries = runtime.log_storage.entries(0, size)
        assert [i for i, _ in entries] == list(range(size))
        assert len({row.notification_id for _, row in entries}) == size == events
        assert 0 < sequenced_before <= size
        keyring = runtime.store.signing.keyring
        report = Auditor(keyring, deep=True).audit(DatabaseSource(runtime.log_storage, keyring))
        assert report.ok, report.first_problem
        assert report.records == events
    finally:
        runtime.close()


def test_a_projection_exported_under_another_version_is_named_not_called_a_mismatch(
    ledger: Ledger, tmp_path: Path
) -> None:
    from projections import BY_NAME
    from projections.base import replay_all

    generate(ledger.service, 60)
    exported = ledger_cli(
        "export", str(tmp_path / "bundle"), env=env_for(ledger.settings), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    bundle = Bundle(tmp_path / "bundle")
    versions = {name: projection.version for name, projection in BY_NAME.items()}

    def replay(names: list[str], records: object) -> dict[str, str]:
        return replay_all([BY_NAME[name] for name in names], records)  # type: ignore[arg-type]

    same = Auditor(bundle.keyring(), replay=replay, replay_versions=versions).audit(bundle)
    assert same.ok, same.first_problem
    assert set(same.projections.values()) == {"ok"}

    newer = versions | {"certificate_register": versions["certificate_register"] + 1}
    other = Auditor(bundle.keyring(), replay=replay, replay_versions=newer).audit(bundle)
    assert not other.ok
    assert other.projections["certificate_register"] == "unknown to this auditor"
    assert {other.projections[n] for n in versions if n != "certificate_register"} == {"ok"}
    was, now = versions["certificate_register"], newer["certificate_register"]
    assert any(
        f"projection certificate_register was exported as version {was};"
        f" this auditor replays version {now}" in problem.reason
        for problem in other.problems
    )
    assert not any("differs from the exported one" in p.reason for p in other.problems)
