"""Limits before work, against the real server process: oversized bodies, forwarded addresses,
failed-authentication limits, and costly public answers (PDFs, credentials, bundles)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.test_http_path import qualify

MIB = 1024 * 1024
VICTIM = "203.0.113.7"


@pytest.fixture
def backend() -> str:
    """The limits live in the HTTP layer: one backend is enough."""
    return "sqlite"


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    """A server whose cap on connections per client leaves room for 32 at once and more."""
    running = start_server(settings, LEDGER_MAX_CONNECTIONS_PER_CLIENT="64")
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def behind_proxy(settings: Settings) -> Iterator[Server]:
    """A server that believes X-Forwarded-For from 127.0.0.1 (the test acts as its proxy)."""
    running = start_server(settings, LEDGER_TRUSTED_PROXIES="127.0.0.1")
    try:
        yield running
    finally:
        stop_server(running)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def post_huge(base: str, declared: int, send: int) -> tuple[bytes, float, int]:
    """POST a body of `declared` bytes (sending up to `send` of them) on a raw socket; the
    answer's first bytes, the seconds until they came, and the bytes the server took."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sent = 0
    stop = threading.Event()

    def pour() -> None:
        nonlocal sent
        chunk = b"{" * MIB
        try:
            while sent < send and not stop.is_set():
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection once it had answered

    started = time.monotonic()
    sock.sendall(
        f"POST /v1/people HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n".encode()
    )
    pourer = threading.Thread(target=pour)
    pourer.start()
    sock.settimeout(5)
    try:
        answer = sock.recv(65536)
        elapsed = time.monotonic() - started
        answer += _rest_of_answer(sock, answer)
    finally:
        pourer.join(timeout=30)
        stop.set()
        sock.close()
    return answer, elapsed, sent


def _rest_of_answer(sock: socket.socket, received: bytes) -> bytes:
    """What is still to come of an answer whose first bytes are `received` (its head and body
    may arrive in separate segments)."""
    more = b""
    while b"\r\n\r\n" not in received + more:
        more += sock.recv(65536)
    head, _, body = (received + more).partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
        more += chunk
    return more


def test_a_300_mb_unauthenticated_post_gets_413_at_once_without_memory_growth(
    server: Server,
) -> None:
    idle = rss_bytes(server.process.pid)
    peak = idle
    sampling = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampling.is_set():
            peak = max(peak, rss_bytes(server.process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answer, elapsed, _ = post_huge(server.base, 300 * MIB, 300 * MIB)
    finally:
        sampling.set()
        sampler.join()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert elapsed < 1.0
    assert b"application/problem+json" in head
    assert json.loads(body)["type"].endswith("/body-too-large")
    assert peak - idle < 50 * MIB, f"server grew by {(peak - idle) / MIB:.0f} MiB"
    assert httpx.get(f"{server.base}/healthz").status_code == 200


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(settings: Settings) -> None:
    running = start_server(settings, LEDGER_MAX_BODY_BYTES=str(64 * 1024))
    try:

        def chunks() -> Iterator[bytes]:
            for _ in range(64):
                yield b" " * 4096

        admin = running.client(running.token("ana", Role.ADMIN))
        response = admin.post("/v1/people", content=chunks())
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert "larger than 65536 bytes" in response.json()["detail"]
        small = admin.post("/v1/people", json={"name": "x"})
        assert small.status_code == 422  # under the limit: read and validated as before
    finally:
        stop_server(running)


def bad_login(server: Server, forwarded_for: str) -> httpx.Response:
    return httpx.get(
        f"{server.base}/v1/people/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": "Bearer ledger_wrong", "X-Forwarded-For": forwarded_for},
    )


def test_rotating_x_forwarded_for_from_an_untrusted_address_reaches_429(server: Server) -> None:
    statuses = [bad_login(server, f"198.51.100.{n}").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    refused = bad_login(server, "198.51.100.99")
    assert int(refused.headers["Retry-After"]) >= 1


def test_behind_a_trusted_proxy_the_limit_keys_on_the_first_untrusted_address(
    behind_proxy: Server,
) -> None:
    server = behind_proxy
    # the client writes what it likes on the left; the proxy appends the real peer on the right
    statuses = [bad_login(server, f"10.9.9.{n}, {VICTIM}").status_code for n in range(11)]
    assert statuses[-1] == 429
    assert bad_login(server, "198.51.100.20").status_code == 401  # another client is not limited


def test_a_victim_s_address_in_the_header_cannot_lock_out_a_valid_token(
    behind_proxy: Server,
) -> None:
    server = behind_proxy
    for _ in range(12):
        bad_login(server, VICTIM)
    assert bad_login(server, VICTIM).status_code == 429
    token = server.token("admin", Role.ADMIN)
    settled(server)  # the export needs a first checkpoint
    answer = httpx.get(
        f"{server.base}/v1/audit/export",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": VICTIM},
        timeout=60,
    )
    assert answer.status_code == 200


def renders(server: Server, kind: str) -> float:
    text = httpx.get(f"{server.base}/metrics").text
    for line in text.splitlines():
        if line.startswith(f'ledger_public_renders_total{{kind="{kind}"}}'):
            return float(line.split()[-1])
    return 0.0


def settled(server: Server) -> None:
    """Wait until the newest checkpoint covers the whole log (the answers' cache key)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        size = httpx.get(f"{server.base}/readyz").json()["log_size"]
        answer = httpx.get(f"{server.base}/log/checkpoint")  # 404 until the first one
        if answer.status_code == 200 and answer.text.splitlines()[1] == str(size):
            return
        time.sleep(0.2)
    raise AssertionError("the checkpoint did not catch up with the log")


def test_32_concurrent_pdf_requests_are_rendered_once(server: Server) -> None:
    (_, certificate), *_ = qualify(server, ("Pia Parallel",))
    settled(server)
    before = renders(server, "pdf-en")

    def fetch(_: int) -> httpx.Response:
        return httpx.get(f"{server.base}/credentials/{certificate}.pdf", timeout=60)

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(fetch, range(32)))
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 429}
    assert renders(server, "pdf-en") - before == 1
    bodies = {a.content for a in answers if a.status_code == 200}
    assert len(bodies) == 1
    assert next(iter(bodies)).startswith(b"%PDF")


def test_fresh_renders_beyond_a_client_s_budget_get_429_with_retry_after(
    settings: Settings,
) -> None:
    running = start_server(settings, LEDGER_RENDERS_PER_MINUTE="3")
    try:
        (_, first), (_, second) = qualify(running, ("Rhea Render", "Rolf Render"))
        settled(running)
        for path in (f"/credentials/{first}.pdf", f"/credentials/{first}", f"{first}/bundle"):
            url = path if path.startswith("/") else f"/credentials/{path}"
            assert httpx.get(running.base + url, timeout=30).status_code == 200
        cached = httpx.get(f"{running.base}/credentials/{first}.pdf", timeout=30)
        assert cached.status_code == 200  # cached: costs nothing
        refused = httpx.get(f"{running.base}/credentials/{second}.pdf", timeout=30)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 61
    finally:
        stop_server(running)
