"""A fresh ledger per scenario: its keys, its database (a SQLite folder, a database on the
PostgreSQL server or on a private cluster), a token for the writers; and the two checks that
read it directly: the markers in its stored records and the live audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.drill.processes import ROOT, environment
from ledger.api.auth import TokenStore
from ledger.config import Settings
from ledger.db import Database
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from ledger.store.application import open_store

ORIGIN = "drill.ledger.example/log"
KEYS_SINCE = datetime(2012, 1, 1, tzinfo=UTC)
PG_ADMIN = os.environ.get(
    "LEDGER_DRILL_PG",
    os.environ.get("LEDGER_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"),
)
PAGE = 500


@dataclass
class Ledger:
    settings: Settings
    workdir: Path

    @property
    def postgres(self) -> bool:
        return self.settings.database_url is not None

    def env(self, **extra: str) -> dict[str, str]:
        values = {
            "LEDGER_DATA_DIR": str(self.settings.data_dir),
            "LEDGER_KEYS_DIR": str(self.settings.keys_dir),
            "LEDGER_ORIGIN": self.settings.origin,
            **extra,
        }
        if self.settings.database_url:
            values["LEDGER_DATABASE_URL"] = self.settings.database_url
        return environment(values)

    def token(self) -> str:
        db = Database(self.settings)
        try:
            return TokenStore(db).create(f"drill-{uuid.uuid4().hex[:8]}", Role.REGISTRAR)
        finally:
            db.close()

    def markers(self, topic: str, field: str) -> Counter[str]:
        """How many stored records of `topic` carry each marker (decoded from the records)."""
        store = open_store(self.settings)
        try:
            recorder: Any = store.app.recorder
            found: Counter[str] = Counter()
            start = 1
            while True:
                chunk = recorder.select_notifications(start, PAGE, topics=(topic,))
                for notification in chunk:
                    found[str(getattr(store.app.mapper.to_domain_event(notification), field))] += 1
                if len(chunk) < PAGE:
                    return found
                start = chunk[-1].id + 1
        finally:
            store.close()

    def audit(self) -> dict[str, Any]:
        """`ledger audit --live`: passed only when every record, chain and log entry verifies."""
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "ledger", "audit", "--live", "--json"],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        try:
            report = json.loads(done.stdout)
        except ValueError:
            report = {}
        return {
            "passed": done.returncode == 0,
            "exit": done.returncode,
            "records": report.get("records") if isinstance(report, dict) else None,
            "seconds": round(time.monotonic() - started, 1),
            "errors": (done.stderr or done.stdout)[-800:] if done.returncode else "",
        }


def _settings(workdir: Path, data_dir: Path, database_url: str | None) -> Settings:
    keys = KeyDirectory(workdir / "keys")
    init_keyring(keys, ORIGIN, KEYS_SINCE)
    settings = Settings(
        data_dir=data_dir, keys_dir=workdir / "keys", database_url=database_url, origin=ORIGIN
    )
    open_store(settings).close()  # tables and the key-ring genesis, once, before any process
    return settings


def sqlite_ledger(workdir: Path, data_dir: Path | None = None) -> Ledger:
    return Ledger(_settings(workdir, data_dir or workdir / "var", None), workdir)


@contextmanager
def postgres_database(admin: str = PG_ADMIN) -> Iterator[str]:
    """A new database on the PostgreSQL server, dropped afterwards; yields its URL."""
    name = f"ledger_drill_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
        info = conn.info
        url = f"postgresql://{info.user}@{info.host}:{info.port}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def postgres_ledger(workdir: Path, url: str) -> Ledger:
    return Ledger(_settings(workdir, workdir / "var", url), workdir)


def postgres_unavailable(admin: str = PG_ADMIN) -> str | None:
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"PostgreSQL unreachable: {str(exc).strip().splitlines()[0]}"
