"""Shared fixtures: real SQLite files and a real PostgreSQL database per run.

PostgreSQL: one database is created for the whole run and dropped after it; each test gets its
own schema in it, so runs and tests never see each other's data. Under CI=true an unreachable
server is an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.integrity.keyring import KeyDirectory, init_keyring
from ledger.runtime import Runtime, open_runtime
from ledger.service import LedgerService
from ledger.store.application import Store, open_store

PG_ADMIN = os.environ.get(
    "LEDGER_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
KEYS_SINCE = datetime(2012, 1, 1, tzinfo=UTC)
TEST_ORIGIN = "ledger.test/log"


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this run; yields its libpq conninfo base (without dbname)."""
    problem = _pg_reachable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(database: str, schema: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}?schema={schema}"


def new_pg_schema(database: str) -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        f"host=127.0.0.1 port=5432 user=postgres dbname={database}", autocommit=True
    ) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    keys = KeyDirectory(tmp_path / "keys")
    if not keys.exists():
        init_keyring(keys, TEST_ORIGIN, KEYS_SINCE)
    url = None
    if backend == "postgres":
        database = request.getfixturevalue("pg_database")
        url = pg_url(database, new_pg_schema(database))
    return Settings(
        data_dir=tmp_path / f"var-{backend}",
        keys_dir=tmp_path / "keys",
        database_url=url,
        origin=TEST_ORIGIN,
    )


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return make_settings(backend, tmp_path, request)


@dataclass
class Ledger:
    store: Store
    service: LedgerService
    clock: ManualClock
    settings: Settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2017, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def runtime(ledger: Ledger) -> Iterator[Runtime]:
    """The whole ledger (store, log, projections, queries) on the test's backend and clock."""
    rt = open_runtime(ledger.settings, clock=ledger.clock)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def ledger(settings: Settings, clock: ManualClock) -> Iterator[Ledger]:
    store = open_store(settings)
    try:
        yield Ledger(store, LedgerService(store, store.person_keys, clock), clock, settings)
    finally:
        store.close()


PG_OUTCOMES: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        PG_OUTCOMES[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and PG_OUTCOMES["skipped"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many PostgreSQL tests ran, so a skipped backend cannot pass unnoticed."""
    terminalreporter.write_line(
        "PostgreSQL tests: {passed} passed, {failed} failed, {skipped} skipped".format(
            **PG_OUTCOMES
        )
    )
    if IN_CI and PG_OUTCOMES["skipped"]:
        terminalreporter.write_line("error: PostgreSQL tests were skipped under CI", red=True)
