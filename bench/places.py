"""Fresh ledgers for the benchmarks: a folder per ledger, and on PostgreSQL a schema per ledger in
one throwaway database that the run creates and drops."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ledger.config import Settings
from ledger.integrity.keyring import KeyDirectory, init_keyring

PG_ADMIN = os.environ.get(
    "LEDGER_BENCH_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
ORIGIN = "ledger.bench/log"


@dataclass
class Places:
    folder: Path
    pg_database: str | None = None

    def create_database(self) -> None:
        self.pg_database = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.pg_database}"')

    def drop_database(self) -> None:
        if self.pg_database:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')

    def conninfo(self) -> str:
        assert self.pg_database
        return f"host=127.0.0.1 port=5432 user=postgres dbname={self.pg_database}"

    def settings(self, backend: str, name: str, keys: str | None = None) -> Settings:
        """A new, empty ledger `name` on `backend`, with its own key folder (or `keys`'s)."""
        url = None
        if backend == "postgres":
            schema = f"b_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            url = f"postgresql://postgres@127.0.0.1:5432/{self.pg_database}?schema={schema}"
        key_folder = KeyDirectory(self.folder / f"keys-{keys or name}")
        if not key_folder.exists():
            init_keyring(key_folder, ORIGIN, datetime(2012, 1, 1, tzinfo=UTC))
        return Settings(
            data_dir=self.folder / f"var-{backend}-{name}",
            keys_dir=key_folder.path,
            database_url=url,
            origin=ORIGIN,
        )
