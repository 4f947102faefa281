"""The static publication (`ledger publish`) served by Caddy with deploy/Caddyfile.static:
`GET /verify/<id>.json` at 64 connections against the same Caddy serving a plain file of the
same size (the cost of the publication's layout and headers over serving a file at all), and
against the API's own `GET /verify/{id}` on the same ledger."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx

from bench.figures import Figure, ratio_figure
from bench.places import Places
from bench.server import ROOT, get_load, serve
from ledger.demo import load_demo
from ledger.publish.publisher import publish
from ledger.runtime import open_runtime

CADDYFILE = ROOT / "deploy" / "Caddyfile.static"
THROUGHPUT_GOAL = 0.9
P99_GOAL = 1.2
PLAIN = "plain-file.json"
ROUNDS = 5  # each side's runs, taking turns: a p99 over a few seconds moves with the machine


@contextmanager
def caddy(directory: Path) -> Iterator[str]:
    """Caddy serving `directory` with the publication's Caddyfile; its base URL."""
    binary = shutil.which("caddy")
    if binary is None:
        raise RuntimeError("caddy is not installed: run `make system-deps`")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "HOME": home,
            "XDG_DATA_HOME": home,
            "XDG_CONFIG_HOME": home,
            "LEDGER_STATIC_SITE": f"http://127.0.0.1:{port}",
            "LEDGER_PUBLISH_DIR": str(directory),
        }
        process = subprocess.Popen(
            [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/{PLAIN}", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError("caddy did not answer in 30 s")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


Runs = list[dict[str, float]]


def _alternating(baseline: list[str], measured: list[str], seconds: float) -> tuple[Runs, Runs]:
    """Each load ROUNDS times, taking turns (after one unmeasured warm-up of each): on a shared
    machine a burst of other work lands on one run, not on one side."""
    get_load(baseline, 1)
    get_load(measured, 1)
    runs: tuple[Runs, Runs] = ([], [])
    for _ in range(ROUNDS):
        runs[0].append(get_load(baseline, seconds))
        runs[1].append(get_load(measured, seconds))
    return runs


def _fastest(runs: Runs) -> dict[str, float]:
    """The run with the most requests per second."""
    return max(runs, key=lambda run: run["requests_per_second"])


def _steadiest(runs: Runs) -> dict[str, float]:
    """The run with the lowest p99: the tail is what a burst of other work on the machine
    moves most, so each side is judged by its least disturbed run, as throughput is by its
    fastest."""
    return min(runs, key=lambda run: run["p99_ms"])


def static_figures(places: Places, backend: str, seconds: float) -> list[Figure]:
    settings = places.settings(backend, "static")
    runtime = open_runtime(settings)
    site = settings.data_dir / "publication"
    try:
        load_demo(runtime.service, runtime.clock.now().date())
        runtime.catch_up()
        publish(runtime, site, date.today())
    finally:
        runtime.close()
    documents = sorted((site / "verify").glob("*.json"))
    size = round(sum(p.stat().st_size for p in documents) / len(documents))
    (site / PLAIN).write_bytes(b"{" + b" " * (size - 3) + b"}\n")
    paths = [f"verify/{p.name}" for p in documents]
    with caddy(site) as base:
        plain_runs, static_runs = _alternating(
            [f"{base}/{PLAIN}"], [f"{base}/{p}" for p in paths], seconds
        )
    plain, static = _fastest(plain_runs), _fastest(static_runs)
    plain_tail, static_tail = _steadiest(plain_runs), _steadiest(static_runs)
    with serve(settings) as server:
        api = get_load([f"{server.base}/verify/{p.stem}" for p in documents], seconds)
    what = f"{len(documents)} documents of {size:,} bytes on average"
    return [
        ratio_figure(
            "static GET /verify/<id>.json (Caddy), 64 connections",
            backend,
            static["requests_per_second"],
            "req/s",
            plain["requests_per_second"],
            THROUGHPUT_GOAL,
            f">= {THROUGHPUT_GOAL}x Caddy serving a plain file of the same size",
            detail=what,
        ),
        ratio_figure(
            "static GET /verify/<id>.json p99 latency (Caddy), 64 connections",
            backend,
            static_tail["p99_ms"],
            "ms",
            plain_tail["p99_ms"],
            P99_GOAL,
            f"<= {P99_GOAL}x the plain file's p99",
            detail=f"p50 {static_tail['p50_ms']:.2f} ms (plain file p50"
            f" {plain_tail['p50_ms']:.2f} ms); the lowest p99 of {ROUNDS} runs each, taking turns;"
            f" p99 of every run {_p99s(static_runs)} ms (plain file {_p99s(plain_runs)} ms)",
            at_most=True,
        ),
        ratio_figure(
            "static GET /verify/<id>.json (Caddy) against the API's GET /verify/{id}",
            backend,
            static["requests_per_second"],
            "req/s",
            api["requests_per_second"],
            None,
            "informative: the API's /verify is the baseline",
            detail=f"API p99 {api['p99_ms']:.1f} ms, static p99 {static['p99_ms']:.2f} ms",
        ),
    ]


def _p99s(runs: Runs) -> str:
    return ", ".join(f"{run['p99_ms']:.1f}" for run in runs)
