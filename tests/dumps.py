"""What a database holds, as bytes to search: a PostgreSQL schema's dump (for the tests that
prove erased or encrypted personal data is nowhere in clear)."""

from __future__ import annotations

import glob
import shutil
import subprocess

import pytest

from ledger.config import parse_database_url
from tests.conftest import IN_CI


def pg_dump_program() -> str:
    """Debian's pg_dump (on PATH or under /usr/lib/postgresql); required under CI."""
    found = shutil.which("pg_dump") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True)), None
    )
    if found is None:
        if IN_CI:
            pytest.fail("pg_dump is required under CI")
        pytest.skip("pg_dump is not installed")
    return found


def schema_dump(database_url: str, *, data_only: bool = False) -> bytes:
    """`pg_dump --inserts` of the schema `database_url` names."""
    target = parse_database_url(database_url)
    return subprocess.run(
        [
            pg_dump_program(),
            "--host",
            target.host,
            "--port",
            str(target.port),
            "--username",
            target.user,
            "--schema",
            target.schema,
            *(["--data-only"] if data_only else []),
            "--inserts",
            target.dbname,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    ).stdout
