"""GET /verify/{id} latency with 50 slowloris connections open, against the same server without.

A slowloris connection sends one byte of an endless request head every 2 s; the server closes it
once its header timeout passes (10 s by default) and it opens again at once, as an attacker's
would. Each comes from its own loopback address (127.0.0.2, 127.0.0.3, ...), like an attack from
many machines, so the per-client cap does not simply refuse them. The load is bench/load.py at
16 keep-alive connections from 127.0.0.1, under that cap.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bench.figures import Figure
from bench.places import Places
from bench.server import ROOT, run_load, serve, settings_env
from ledger.config import Settings

SLOW_CONNECTIONS = 50
LOAD_CONNECTIONS = 16
BYTE_EVERY_S = 2.0
WARM_UP_S = 2.0
MIN_PHASE_S = 12.0
"""Longer than the default header timeout, so the slow connections are closed and reopened."""
HEAD = b"GET /healthz HTTP/1.1\r\nHost: ledger.bench\r\nX-Padding: " + b"a" * 65536


@contextmanager
def slowloris(base: str, connections: int) -> Iterator[dict[str, int]]:
    """`connections` slow clients while the body runs; yields the count of closes by the server
    (filled in when it ends)."""
    stop = threading.Event()
    closed = {"closed_by_server": 0}
    lock = threading.Lock()
    target = urlsplit(base)

    def dribble(n: int) -> None:
        source = (f"127.0.{(n + 2) // 256}.{(n + 2) % 256}", 0)
        while not stop.is_set():
            try:
                sock = socket.create_connection(
                    (target.hostname, target.port), timeout=10, source_address=source
                )
            except OSError:
                stop.wait(0.1)
                continue
            with sock:
                for byte in HEAD:
                    try:
                        sock.send(bytes([byte]))
                        sock.setblocking(False)
                        if sock.recv(1) == b"":
                            break
                    except BlockingIOError:
                        pass
                    except OSError:
                        break
                    finally:
                        sock.setblocking(True)
                    if stop.wait(BYTE_EVERY_S):
                        return
            with lock:
                closed["closed_by_server"] += 1

    threads = [threading.Thread(target=dribble, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    try:
        yield closed
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=BYTE_EVERY_S + 10)


def _certificates(places: Places, backend: str) -> tuple[Settings, list[str]]:
    settings = places.settings(backend, "slow-clients")
    loaded = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return settings, list(json.loads(loaded.stdout)["certificates"]["valid"])


def slow_clients_figures(places: Places, backend: str, seconds: float) -> list[Figure]:
    settings, ids = _certificates(places, backend)
    with serve(settings) as server:
        spec = {
            "urls": [f"{server.base}/verify/{i}" for i in ids],
            "connections": LOAD_CONNECTIONS,
            "seconds": WARM_UP_S,
            "headers": {"Accept": "application/json"},
        }
        run_load(spec)  # caches and connections warm, so the first phase is not the slower
        spec["seconds"] = max(seconds, MIN_PHASE_S)
        quiet = run_load(spec)
        with slowloris(server.base, SLOW_CONNECTIONS) as slow:
            time.sleep(BYTE_EVERY_S)  # every slow connection open and dribbling
            attacked = run_load(spec)
    detail = (
        f"{LOAD_CONNECTIONS} connections; slowloris connections closed by the server (header"
        f" timeout) and reopened: {slow['closed_by_server']}"
    )
    return [
        Figure(
            f"GET /verify/{{id}} {label} with {SLOW_CONNECTIONS} slowloris connections open",
            backend,
            attacked[key],
            "ms",
            quiet[key],
            attacked[key] / quiet[key],
            "informative (the baseline: the same load, no slow clients)",
            None,
            detail=detail,
        )
        for label, key in (("p50", "p50_ms"), ("p99", "p99_ms"))
    ]
