"""A database or data folder the ledger cannot use: every command says so in one line and exits 2,
never with a traceback, and never echoes the password of the database URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.config import Settings
from tests.conftest import make_settings, pg_url
from tests.e2e.conftest import ROOT, free_port, server_env

PASSWORD = "correct-horse-battery"


def run(settings: Settings, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *command],
        env={**server_env(settings), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    assert PASSWORD not in done.stderr + done.stdout


@pytest.fixture
def missing_schema(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """A ledger whose URL names a schema that does not exist (and carries a password)."""
    settings = make_settings("postgres", tmp_path, request)
    database = request.getfixturevalue("pg_database")
    url = pg_url(database, "no_such_schema").replace("postgres@", f"postgres:{PASSWORD}@")
    return Settings(
        data_dir=settings.data_dir,
        keys_dir=settings.keys_dir,
        database_url=url,
        origin=settings.origin,
    )


@pytest.mark.postgres
def test_token_create_on_a_missing_schema_says_so_in_one_line_and_exits_2(
    missing_schema: Settings,
) -> None:
    done = run(missing_schema, "token", "create", "--role", "admin", "--name", "first")
    assert_one_line_error(done, "'no_such_schema' does not exist", "?schema=")
    assert done.stdout == ""  # no token printed


@pytest.mark.postgres
@pytest.mark.parametrize(
    "command",
    [
        ["token", "list"],
        ["demo"],
        ["projections", "status"],
        ["trust-root"],
        ["worker"],
        ["serve", "--quiet"],
        ["serve", "--quiet", "--workers", "2"],
    ],
    ids=" ".join,
)
def test_every_command_opening_the_ledger_refuses_a_missing_schema_in_one_line(
    missing_schema: Settings, command: list[str]
) -> None:
    extra = ["--port", str(free_port())] if command[0] == "serve" else []
    done = run(missing_schema, *command, *extra)
    assert_one_line_error(done, "'no_such_schema' does not exist")


@pytest.mark.postgres
def test_a_missing_database_and_an_unreachable_server_are_named_in_one_line(
    missing_schema: Settings,
) -> None:
    missing = "postgresql://postgres@127.0.0.1:5432/no_such_database_here"
    done = run(missing_schema, "token", "list", LEDGER_DATABASE_URL=missing)
    assert_one_line_error(done, "'no_such_database_here' on 127.0.0.1:5432 does not exist")
    closed = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/ledger"
    done = run(missing_schema, "token", "list", LEDGER_DATABASE_URL=closed)
    assert_one_line_error(done, "cannot connect to the database 'ledger'")


def test_a_data_folder_that_cannot_be_made_is_named_in_one_line(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings("sqlite", tmp_path, request)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = run(settings, "token", "list", LEDGER_DATA_DIR=str(blocker / "var"))
    assert_one_line_error(done, f"cannot use the data folder {blocker / 'var'}", "LEDGER_DATA_DIR")
