"""Processes starting together on an empty database: each creates the tables it needs, and
none fails on another's half-made table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.db import Database, schema_lock
from ledger.runtime import open_runtime
from tests.conftest import make_settings
from tests.integration.test_audit_bundle import env_for

STARTERS = 6


def test_processes_starting_together_on_an_empty_database_all_start(
    settings: Settings, tmp_path: Path
) -> None:
    env = env_for(settings)
    commands = [["token", "list"], ["projections", "status", "--json"]] * (STARTERS // 2)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "ledger", *command],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    failures = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(err[-2000:])
    assert failures == []
    runtime = open_runtime(settings)
    try:
        assert {s.name for s in runtime.runner.status()} == {
            "trainer_status",
            "certificate_register",
            "programme_roster",
            "public_register",
        }
        assert all(s.generation == 1 for s in runtime.runner.status())
    finally:
        runtime.close()


def test_the_schema_lock_is_reentrant_in_a_process_and_exclusive_across_processes(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings("postgres", tmp_path, request)
    code = (
        "import sys; from ledger.config import Settings; from ledger.db import schema_lock\n"
        "with schema_lock(Settings(database_url=sys.argv[1])):\n    print('in', flush=True)\n"
    )
    with schema_lock(settings), schema_lock(settings):  # re-entrant: no self-deadlock
        other = subprocess.Popen(
            [sys.executable, "-c", code, str(settings.database_url)],
            stdout=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):
            other.wait(timeout=1.5)  # waits while this process holds the lock
    out, _ = other.communicate(timeout=30)
    assert other.returncode == 0
    assert out == "in\n"
    db = Database(settings)
    try:
        with db.ddl() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {db.table('startup_probe')} (x INTEGER)")
            tx.execute(f"INSERT INTO {db.table('startup_probe')} VALUES (1)")
        with db.read() as tx:
            assert tx.execute(f"SELECT x FROM {db.table('startup_probe')}").fetchall() == [(1,)]
    finally:
        db.close()
