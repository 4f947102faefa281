"""`ledger audit URL` against hostile servers: it stops within its limits, says why, and leaves
no temporary files, whatever the server does."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

HUGE = 1_000_000_000
ROOT_HASH = base64.b64encode(bytes(32)).decode()
SIGNATURE = base64.b64encode(bytes(68)).decode()
NOTE = f"hostile.example/log\n{HUGE}\n{ROOT_HASH}\n\n\u2014 hostile.example/log {SIGNATURE}\n"

Handler = Callable[[BaseHTTPRequestHandler], None]


class Hostile:
    """A test server whose GET answers are given per path; it notes every path asked for."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.asked: list[str] = []
        outer = self

        class Handle(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.asked.append(self.path)
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile() -> Iterator[Callable[[dict[str, Handler]], Hostile]]:
    started: list[Hostile] = []

    def start(routes: dict[str, Handler]) -> Hostile:
        started.append(Hostile(routes))
        return started[-1]

    yield start
    for server in started:
        server.close()


def reply(body: bytes, content_type: str = "application/json") -> Handler:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


KEYRING = reply(json.dumps({"origin": "hostile.example/log", "keys": []}).encode())
CHECKPOINT = reply(NOTE.encode(), "text/plain")


def endless_entries(h: BaseHTTPRequestHandler) -> None:
    start = int(h.path.split("start=")[1].split("&")[0])
    leaf = base64.b64encode(b"x" * 2000).decode()
    page = {"entries": [{"index": start + n, "leaf_data": leaf} for n in range(1000)]}
    reply(json.dumps(page).encode())(h)


def audit(base: str, tmp: Path, **limits: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(tmp), **limits)
    return subprocess.Popen(
        [sys.executable, "-m", "ledger", "audit", base],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str], within: float) -> tuple[int, str, float]:
    started = time.monotonic()
    _, err = process.communicate(timeout=within)
    return process.returncode, err, time.monotonic() - started


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def test_an_oversized_declared_reply_is_refused_unread(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    def three_gigabytes(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(3 * 1024**3))
        h.end_headers()
        for _ in range(3 * 1024):
            h.wfile.write(b"\0" * 1024 * 1024)

    server = hostile({"/log/keyring": three_gigabytes})
    code, err, _ = finished(audit(server.base, tmp), within=30)
    assert code == 2
    assert "declares 3221225472 bytes, over the limit of 67108864 bytes" in err
    assert list(tmp.iterdir()) == []


def test_an_oversized_undeclared_reply_stops_at_the_cap(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    def unending(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()  # no length: the body ends when the connection does
        for _ in range(1024):
            h.wfile.write(b"[" * 1024 * 1024)

    server = hostile({"/log/keyring": unending})
    code, err, _ = finished(
        audit(server.base, tmp, LEDGER_AUDIT_MAX_RESPONSE_BYTES=str(4 * 1024 * 1024)), within=30
    )
    assert code == 2
    assert "sent more than 4194304 bytes" in err
    assert list(tmp.iterdir()) == []


def test_a_slow_drip_stops_at_the_time_limit(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    began: list[float] = []

    def drip(h: BaseHTTPRequestHandler) -> None:
        began.append(time.monotonic())
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.5)

    server = hostile({"/log/keyring": drip})
    code, err, _ = finished(audit(server.base, tmp, LEDGER_AUDIT_TIME_LIMIT_S="2"), within=30)
    ended = time.monotonic()
    assert code == 2
    assert "ran past its time limit of 2 s" in err
    # The drip would last 500 s. Counted from its first byte, not from the client's start (which
    # imports for seconds on a loaded machine): the limit of 2 s, and a margin for the load.
    assert ended - began[0] < 8
    assert list(tmp.iterdir()) == []


def test_an_endless_log_stops_at_the_time_limit_and_leaves_no_files(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    server = hostile(
        {"/log/keyring": KEYRING, "/log/checkpoint": CHECKPOINT, "/log/entries": endless_entries}
    )
    code, err, _ = finished(audit(server.base, tmp, LEDGER_AUDIT_TIME_LIMIT_S="3"), within=60)
    assert code == 2
    assert "ran past its time limit of 3 s" in err
    assert sum(1 for path in server.asked if path.startswith("/log/entries")) > 1
    assert list(tmp.iterdir()) == []


def test_an_audit_ended_by_sigterm_removes_its_temporary_folder(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    server = hostile(
        {"/log/keyring": KEYRING, "/log/checkpoint": CHECKPOINT, "/log/entries": endless_entries}
    )
    process = audit(server.base, tmp)
    deadline = time.monotonic() + 30
    while not any(tmp.rglob("records*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(tmp.iterdir()), "the audit never started writing"
    process.send_signal(signal.SIGTERM)
    code, _, _ = finished(process, within=30)
    assert code == 128 + signal.SIGTERM
    assert list(tmp.iterdir()) == []


def test_a_redirect_to_another_origin_is_not_followed(
    hostile: Callable[[dict[str, Handler]], Hostile], tmp: Path
) -> None:
    inside = hostile({"/log/keyring": KEYRING})

    def elsewhere(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", f"{inside.base}/log/keyring")
        h.send_header("Content-Length", "0")
        h.end_headers()

    server = hostile({"/log/keyring": elsewhere})
    code, err, _ = finished(audit(server.base, tmp), within=30)
    assert code == 2
    assert f"redirects to another origin ({inside.base}/log/keyring); not followed" in err
    assert inside.asked == []
    assert list(tmp.iterdir()) == []
