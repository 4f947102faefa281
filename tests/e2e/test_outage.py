"""PostgreSQL stopped for ten seconds under a load of writers (a private cluster: the shared
server is never stopped).

While it is away every write is answered 503 with Retry-After (never 500), no request waits
much beyond the configured database deadline, and `/readyz` says so within about a second and
recovers after the restart. Afterwards, every write a client was not sure of is sent again with
its Idempotency-Key, and each exists exactly once (counted by its programme title).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests import private_pg
from tests.conftest import IN_CI, KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.outage_support import keyed_write

pytestmark = pytest.mark.postgres

DB_TIMEOUT_S = 2
READY_TIMEOUT_MS = 1000
OUTAGE_S = 10
WRITERS = 6
# A request may wait for the database at a few points in turn (the caller's token, the
# command, its answer); each wait is bounded by DB_TIMEOUT_S. This is the bound a client sees.
REQUEST_DEADLINE_S = 3 * DB_TIMEOUT_S + 3
CAUSES = {"database-unreachable", "database-read-only", "disk-full", "database-busy"}


@pytest.fixture
def cluster() -> Iterator[private_pg.PrivateCluster]:
    reason = private_pg.available()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"the outage test needs a private PostgreSQL cluster: {reason}")
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    with private_pg.PrivateCluster() as made:
        yield made


@pytest.fixture
def outage_server(cluster: private_pg.PrivateCluster, tmp_path: Path) -> Iterator[Server]:
    init_keyring(KeyDirectory(tmp_path / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(
        data_dir=tmp_path / "var",
        keys_dir=tmp_path / "keys",
        database_url=cluster.database_url(cluster.create_database()),
        origin=TEST_ORIGIN,
    )
    running = start_server(
        settings,
        LEDGER_DB_TIMEOUT_S=str(DB_TIMEOUT_S),
        LEDGER_READY_TIMEOUT_MS=str(READY_TIMEOUT_MS),
    )
    try:
        yield running
    finally:
        if cluster.accepting() is False:
            cluster.start()
        stop_server(running)


@dataclass
class Attempt:
    title: str
    status: int | None  # None: no answer (the connection failed)
    seconds: float
    retry_after: str | None = None
    cause: str | None = None


@dataclass
class Load:
    server: Server
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    attempts: list[Attempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def writer(self, number: int) -> None:
        run = uuid.uuid4().hex[:8]
        with self.server.client(self.token) as client:
            client.timeout = httpx.Timeout(REQUEST_DEADLINE_S + 60)
            sent = 0
            while not self.stop.is_set():
                title = f"outage {run} writer {number} #{sent}"
                sent += 1
                self.attempts.append(send(client, title))
                time.sleep(0.05)


def send(client: httpx.Client, title: str) -> Attempt:
    started = time.monotonic()
    try:
        answer = keyed_write(client, title)
    except httpx.TransportError:
        return Attempt(title, None, time.monotonic() - started)
    attempt = Attempt(title, answer.status_code, time.monotonic() - started)
    if answer.status_code == 503:
        attempt.retry_after = answer.headers.get("Retry-After")
        attempt.cause = answer.json().get("cause")
    return attempt


@dataclass
class ReadinessWatch:
    base: str
    stop: threading.Event = field(default_factory=threading.Event)
    seen: list[tuple[float, int | None, float]] = field(default_factory=list)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status: int | None = httpx.get(f"{self.base}/readyz", timeout=10).status_code
            except httpx.HTTPError:
                status = None
            self.seen.append((started, status, time.monotonic() - started))
            time.sleep(0.1)

    def first(self, status: int, after: float) -> float | None:
        return next((t for t, s, _ in self.seen if t >= after and s == status), None)


def titles(server: Server, token: str) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    with server.client(token) as client:
        while True:
            params: dict[str, str | int] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/programmes", params=params)
            assert page.status_code == 200, page.text
            body = page.json()
            found += [item["title"] for item in body["items"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return found


def verify_unknown(server: Server) -> httpx.Response:
    return httpx.get(
        f"{server.base}/verify/LT-0000-0000-0000",
        headers={"Accept": "application/json"},
        timeout=REQUEST_DEADLINE_S + 10,
    )


def test_postgresql_away_for_ten_seconds_answers_503_and_loses_or_doubles_nothing(
    cluster: private_pg.PrivateCluster, outage_server: Server
) -> None:
    server = outage_server
    token = server.token("outage-registrar", Role.REGISTRAR)
    with server.client(token) as client:
        first = send(client, f"outage warm-up {uuid.uuid4().hex[:6]}")
    assert first.status == 201, first

    load = Load(server, token)
    watch = ReadinessWatch(server.base)
    threads = [threading.Thread(target=load.writer, args=(n,)) for n in range(WRITERS)]
    threads.append(threading.Thread(target=watch.run))
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        stopped_at = time.monotonic()
        cluster.stop()
        time.sleep(2)
        away = verify_unknown(server)
        time.sleep(OUTAGE_S - 2)
        restarted_at = time.monotonic()
        cluster.start()
        deadline = restarted_at + 60
        while watch.first(200, restarted_at) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # writes after the recovery
    finally:
        load.stop.set()
        watch.stop.set()
        for thread in threads:
            thread.join(REQUEST_DEADLINE_S + 90)

    # Verification too: 503 with Retry-After while the database is away, never a wrong 404.
    assert away.status_code == 503, away.text
    assert int(away.headers["Retry-After"]) > 0
    assert away.json()["cause"] in CAUSES
    assert verify_unknown(server).status_code == 404

    statuses = {a.status for a in load.attempts}
    assert 500 not in statuses, [a for a in load.attempts if a.status == 500][:3]
    assert statuses <= {201, 503, None}, statuses
    refused = [a for a in load.attempts if a.status == 503]
    assert refused, "no write was attempted while PostgreSQL was away"
    assert all(a.retry_after is not None and int(a.retry_after) > 0 for a in refused)
    assert {a.cause for a in refused} <= CAUSES
    slowest = max(load.attempts, key=lambda a: a.seconds)
    assert slowest.seconds <= REQUEST_DEADLINE_S, slowest

    noticed = watch.first(503, stopped_at)
    assert noticed is not None, "readyz did not notice the outage"
    assert noticed - stopped_at <= 1.5, "readyz took too long to notice the outage"
    assert all(s is not None for _, s, _ in watch.seen), "readyz did not answer"
    assert max(took for _, _, took in watch.seen) <= READY_TIMEOUT_MS / 1000 + 1
    recovered = watch.first(200, restarted_at)
    assert recovered is not None, "readyz did not recover after the restart"

    # Every write the client was not sure of, sent again with its key until it is answered.
    unsure = {a.title for a in load.attempts if a.status != 201}
    acknowledged = {a.title for a in load.attempts if a.status == 201}
    with server.client(token) as client:
        for title in sorted(unsure - acknowledged):
            for _ in range(20):
                again = send(client, title)
                if again.status == 201:
                    acknowledged.add(title)
                    break
                time.sleep(0.5)
    sent = {a.title for a in load.attempts}
    assert acknowledged == sent
    counted: dict[str, int] = {}
    for title in titles(server, token):
        counted[title] = counted.get(title, 0) + 1
    doubled = {t: n for t, n in counted.items() if n > 1}
    missing = sent - set(counted)
    assert not doubled, f"written twice: {sorted(doubled)[:5]}"
    assert not missing, f"acknowledged but not found: {sorted(missing)[:5]}"
