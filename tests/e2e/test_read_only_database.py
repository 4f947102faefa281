"""A PostgreSQL database turned read-only under a running server (as a standby promoted the
wrong way round, or an operator's `default_transaction_read_only`): writes are answered 503
`database-read-only` with Retry-After, never 500, `/readyz` says why, and writes resume once the
database is writable again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import KEYS_SINCE, PG_ADMIN, TEST_ORIGIN
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.outage_support import keyed_write

pytestmark = pytest.mark.postgres


def admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.encode())


def set_read_only(database: str, on: bool) -> None:
    """New sessions follow the setting; the open ones are ended so that the server's pools
    reconnect into it."""
    admin(
        f'ALTER DATABASE "{database}" SET default_transaction_read_only = {"on" if on else "off"}'
    )
    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )


@pytest.fixture
def own_database(pg_database: str) -> Iterator[str]:
    """A database of this test's own: being made read-only, it must not be the run's shared one."""
    name = f"ledger_ro_{uuid.uuid4().hex[:10]}"
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def read_only_server(own_database: str, tmp_path: Path) -> Iterator[Server]:
    init_keyring(KeyDirectory(tmp_path / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(
        data_dir=tmp_path / "var",
        keys_dir=tmp_path / "keys",
        database_url=f"postgresql://postgres@127.0.0.1:5432/{own_database}",
        origin=TEST_ORIGIN,
    )
    running = start_server(settings, LEDGER_DB_TIMEOUT_S="2")
    try:
        yield running
    finally:
        stop_server(running)


def test_a_read_only_database_answers_503_until_it_is_writable_again(
    read_only_server: Server, own_database: str
) -> None:
    server = read_only_server
    token = server.token("ro-registrar", Role.REGISTRAR)
    run = uuid.uuid4().hex[:8]
    with server.client(token) as client:

        def write(n: int) -> httpx.Response:
            return keyed_write(client, f"read-only {run} #{n}")

        assert write(0).status_code == 201
        set_read_only(own_database, True)
        answers = [write(n) for n in range(1, 6)]
        assert [a.status_code for a in answers] == [503] * 5, [a.text for a in answers]
        # The first may meet a connection the database just ended; then it stays read-only.
        assert answers[-1].json()["cause"] == "database-read-only"
        assert answers[-1].json()["detail"].startswith("the database is read-only")
        assert int(answers[-1].headers["Retry-After"]) > 0

        ready = httpx.get(f"{server.base}/readyz", timeout=10)
        for _ in range(20):
            if ready.status_code == 503:
                break
            time.sleep(0.1)
            ready = httpx.get(f"{server.base}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.headers["Retry-After"].isdigit()
        database = ready.json()["checks"]["database"]
        assert (database["ok"], database["cause"]) == (False, "database-read-only")

        set_read_only(own_database, False)
        resumed = [write(n) for n in range(100, 110)]
        assert any(a.status_code == 201 for a in resumed), [a.text for a in resumed]
        assert {a.status_code for a in resumed} <= {201, 503}
