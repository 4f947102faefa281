"""Slow and greedy clients against the real server: read timeouts for the request head and body,
and the cap on connections per client address (src/ledger/api/connections.py).

Connection handling sits below the application, so apart from the slowloris test (run on both
backends, and with two API processes on PostgreSQL) these run on SQLite only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import (
    ROOT,
    Server,
    free_port,
    server_env,
    start_server,
    stop_server,
    wait_ready,
)
from tests.e2e.privacy_support import load_demo

HEADER_TIMEOUT = 3
BODY_TIMEOUT = 3
SLACK = 5  # how much later than its timeout a connection may be closed
TRICKLE = 2.0  # seconds between the bytes a slow client sends
SERVE = [sys.executable, "-m", "ledger", "serve", "--quiet"]
HEAD = b"GET /healthz HTTP/1.1\r\nHost: ledger.test\r\nX-Padding: " + b"a" * 4096


def connect(server: Server) -> socket.socket:
    address = urlsplit(server.base)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def seconds_until_closed(sock: socket.socket, limit: float, trickle: bytes = b"") -> float:
    """Send `trickle` a byte every TRICKLE seconds (or nothing) until the server closes the
    connection; the seconds that took."""
    started = time.monotonic()
    sock.settimeout(TRICKLE)
    sent = 0
    while time.monotonic() - started < limit:
        try:
            if sent < len(trickle):
                sent += sock.send(trickle[sent : sent + 1])
            if sock.recv(1024) == b"":
                return time.monotonic() - started
            raise AssertionError("the server answered a request it never fully received")
        except TimeoutError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    raise AssertionError(f"still open after {limit} s")


def slowloris(server: Server) -> float:
    with connect(server) as sock:
        return seconds_until_closed(sock, HEADER_TIMEOUT + SLACK + 10, HEAD)


def read_response(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from a raw connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before a complete answer: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("closed in the middle of an answer")
        body += chunk
    return head + b"\r\n\r\n" + body


def ask(sock: socket.socket, path: str = "/healthz") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: ledger.test\r\n\r\n".encode())
    return read_response(sock)


def server_log(server: Server) -> str:
    port = urlsplit(server.base).port
    return (Path(server.settings.data_dir).parent / f"server-{port}.log").read_text()


def answers_meanwhile(server: Server, certificate: str, until: Future[Any]) -> list[int]:
    """Statuses of a normal client's requests, made until `until` is done."""
    statuses = []
    with httpx.Client(base_url=server.base, timeout=30) as client:
        while not until.done():
            statuses.append(client.get("/healthz").status_code)
            verify = client.get(f"/verify/{certificate}", headers={"Accept": "application/json"})
            statuses.append(verify.status_code)
    return statuses


def admitted(server: Server) -> socket.socket:
    """A connection the server has counted and answered (those of start-up may be closing)."""
    deadline = time.monotonic() + 10
    while True:
        sock = connect(server)
        if ask(sock).startswith(b"HTTP/1.1 200 ") or time.monotonic() > deadline:
            return sock
        sock.close()
        time.sleep(0.1)


def test_a_slowloris_connection_is_closed_once_the_header_timeout_passes_while_others_are_answered(
    settings: Settings,
) -> None:
    certificate = load_demo(settings)["valid"][0]
    limited = start_server(settings, LEDGER_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT))
    try:
        with ThreadPoolExecutor(1) as pool:
            closed_after = pool.submit(slowloris, limited)
            statuses = answers_meanwhile(limited, certificate, closed_after)
            seconds = closed_after.result()
    finally:
        stop_server(limited)
    assert HEADER_TIMEOUT - 0.1 <= seconds < HEADER_TIMEOUT + SLACK
    assert statuses
    assert set(statuses) == {200}
    closings = [line for line in server_log(limited).splitlines() if "slow connection" in line]
    assert len(closings) == 1
    entry = json.loads(closings[0])
    assert entry["level"] == "info"
    assert entry["message"] == (
        "closed a slow connection from 127.0.0.1:"
        f" no complete request head within {HEADER_TIMEOUT} s"
    )


@pytest.mark.postgres
def test_slowloris_connections_are_closed_by_each_of_two_api_processes(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = make_settings("postgres", tmp_path, request)
    certificate = load_demo(settings)["valid"][0]
    port = free_port()
    with (tmp_path / f"server-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [
                *SERVE,
                "--port",
                str(port),
                "--workers",
                "2",
                "--header-timeout",
                str(HEADER_TIMEOUT),
            ],
            env=server_env(settings),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    server = Server(f"http://127.0.0.1:{port}", settings, process)
    try:
        wait_ready(server.base, process)
        with ThreadPoolExecutor(9) as pool:
            closed = [pool.submit(slowloris, server) for _ in range(8)]
            done = pool.submit(lambda: [c.result() for c in closed])
            statuses = answers_meanwhile(server, certificate, done)
            seconds = done.result()
    finally:
        stop_server(server)
    assert all(HEADER_TIMEOUT - 0.1 <= s < HEADER_TIMEOUT + SLACK for s in seconds), seconds
    assert statuses
    assert set(statuses) == {200}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_body_that_stalls_is_closed_after_the_body_timeout_and_one_that_trickles_is_answered(
    settings: Settings,
) -> None:
    server = start_server(
        settings, LEDGER_HEADER_TIMEOUT_S="60", LEDGER_BODY_TIMEOUT_S=str(BODY_TIMEOUT)
    )
    try:
        token = server.token("registrar", Role.REGISTRAR)
        body = b'{"name": "Ada Example"}'
        head = (
            "POST /v1/people HTTP/1.1\r\nHost: ledger.test\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with connect(server) as stalled:
            stalled.sendall(head + body[:5])
            seconds = seconds_until_closed(stalled, BODY_TIMEOUT + SLACK + 10)
        assert BODY_TIMEOUT - 0.1 <= seconds < BODY_TIMEOUT + SLACK

        with connect(server) as trickling:  # each byte restarts the wait
            trickling.sendall(head)
            started = time.monotonic()
            for byte in body[:5]:
                trickling.sendall(bytes([byte]))
                time.sleep(TRICKLE / 2)
            trickling.sendall(body[5:])
            answer = read_response(trickling)
        assert time.monotonic() - started > BODY_TIMEOUT
        assert answer.startswith(b"HTTP/1.1 4")  # the incomplete person is refused, not dropped
    finally:
        stop_server(server)
    assert "no byte of the request body for 3 s" in server_log(server)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_client_over_its_connection_cap_is_answered_503_at_once_and_the_others_keep_working(
    settings: Settings,
) -> None:
    server = start_server(settings, LEDGER_MAX_CONNECTIONS_PER_CLIENT="4")
    try:
        four = [admitted(server) for _ in range(4)]
        with connect(server) as fifth:
            refusal = read_response(fifth)
            assert fifth.recv(1024) == b""  # and closed
        head, _, body = refusal.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        assert b"retry-after: 2" in head.lower()
        assert b"content-type: application/problem+json" in head.lower()
        assert json.loads(body)["type"].endswith("/problems/too-many-connections")
        for sock in four:
            assert ask(sock).startswith(b"HTTP/1.1 200 ")
        for sock in four:
            sock.close()
        with admitted(server) as again:  # once the server has seen the four close
            assert ask(again).startswith(b"HTTP/1.1 200 ")
    finally:
        stop_server(server)
    assert server_log(server).count("refusing connections from 127.0.0.1") >= 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_trusted_proxy_is_not_held_to_the_connection_cap(settings: Settings) -> None:
    server = start_server(
        settings, LEDGER_MAX_CONNECTIONS_PER_CLIENT="2", LEDGER_TRUSTED_PROXIES="127.0.0.1"
    )
    try:
        sockets = [connect(server) for _ in range(6)]
        try:
            assert all(ask(sock).startswith(b"HTTP/1.1 200 ") for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()
    finally:
        stop_server(server)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_kept_alive_connection_is_closed_when_idle_and_when_its_next_head_trickles(
    settings: Settings,
) -> None:
    """Idle after an answer: uvicorn's keep-alive timeout (5 s) closes it. Sending the next
    request head a byte at a time cancels that timer, but not the header timeout, which counts
    from the previous answer."""
    header_timeout = 9
    server = start_server(settings, LEDGER_HEADER_TIMEOUT_S=str(header_timeout))
    try:
        with connect(server) as idle:
            assert ask(idle).startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            idle.settimeout(header_timeout + SLACK)
            assert idle.recv(1024) == b""
            idle_seconds = time.monotonic() - started
        with connect(server) as slow:
            assert ask(slow).startswith(b"HTTP/1.1 200 ")
            trickle_seconds = seconds_until_closed(slow, header_timeout + SLACK + 10, HEAD)
    finally:
        stop_server(server)
    assert idle_seconds < header_timeout
    assert header_timeout - 0.1 <= trickle_seconds < header_timeout + SLACK
