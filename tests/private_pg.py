"""A private PostgreSQL 15 cluster for tests that stop, restart or starve the database server.

The shared server (port 5432) must never be stopped by a test; a test that needs an outage
creates its own cluster with `pg_createcluster`, on a free port, with trust authentication for
local connections, and drops it on exit (also after a failure):

    with PrivateCluster() as cluster:
        url = cluster.database_url(cluster.create_database())
        ...
        cluster.stop()      # the outage
        cluster.start()

Needs the PostgreSQL 15 server packages and root (or the postgres user) to run the cluster
tools; `available()` says why not, for a clear skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from types import TracebackType

import psycopg

VERSION = "15"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> str | None:
    """None when a private cluster can be made here; otherwise the reason it cannot."""
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (postgresql-common)"
    if not os.path.isdir(f"/usr/lib/postgresql/{VERSION}/bin"):
        return f"PostgreSQL {VERSION} server binaries are not installed"
    if os.geteuid() != 0:
        return "creating a PostgreSQL cluster needs root"
    return None


class PrivateCluster:
    """One throw-away cluster: `start()`, `stop()` (fast), `restart()`, databases, URLs."""

    def __init__(self, name: str | None = None, port: int | None = None) -> None:
        self.name = name or f"ledgertest_{uuid.uuid4().hex[:10]}"
        self.port = port or _free_port()
        self.created = False

    def __enter__(self) -> PrivateCluster:
        self.create()
        try:
            self.start()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.drop()

    def create(self) -> None:
        _run(
            "pg_createcluster",
            VERSION,
            self.name,
            "--port",
            str(self.port),
            "--start-conf",
            "manual",
            "--",
            "--auth=trust",
        )
        self.created = True
        # A test outage must not be slowed by checkpoints flushing much; keep the cluster small.
        conf = f"/etc/postgresql/{VERSION}/{self.name}/conf.d/private.conf"
        with open(conf, "w", encoding="utf-8") as file:
            file.write(
                "listen_addresses = '127.0.0.1'\n"
                "max_connections = 100\n"
                "shared_buffers = 32MB\n"
                "fsync = off\n"
                "full_page_writes = off\n"
                "synchronous_commit = off\n"
            )

    def start(self) -> None:
        _run("pg_ctlcluster", VERSION, self.name, "start")
        self.wait_accepting()

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended, as in an operator's restart or a failover."""
        _run("pg_ctlcluster", VERSION, self.name, "stop", "-m", "fast")

    def restart(self) -> None:
        _run("pg_ctlcluster", VERSION, self.name, "restart", "-m", "fast")
        self.wait_accepting()

    def kill(self) -> None:
        """Immediate shutdown (no checkpoint): the server as if its machine had lost power."""
        _run("pg_ctlcluster", VERSION, self.name, "stop", "-m", "immediate")

    def drop(self) -> None:
        if self.created:
            subprocess.run(
                ["pg_dropcluster", VERSION, self.name, "--stop"],
                check=False,
                capture_output=True,
                timeout=120,
            )
            # pg_dropcluster leaves the conf.d folder with the file this class wrote there.
            shutil.rmtree(f"/etc/postgresql/{VERSION}/{self.name}", ignore_errors=True)
            self.created = False

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def database_url(self, dbname: str, schema: str = "") -> str:
        """The `LEDGER_DATABASE_URL` form (see `ledger.config.parse_database_url`)."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"
        return f"{url}?schema={schema}" if schema else url

    def create_database(self, name: str | None = None) -> str:
        name = name or f"ledger_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """One statement, autocommit (ALTER DATABASE and the like)."""
        with psycopg.connect(self.conninfo(dbname), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.encode())

    def accepting(self) -> bool:
        try:
            with psycopg.connect(self.conninfo(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def wait_accepting(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepting():
                return
            time.sleep(0.1)
        raise RuntimeError(f"private cluster {self.name} not accepting after {timeout} s")


def _run(*command: str) -> None:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout}")
