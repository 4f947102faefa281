"""Figures over a filled ledger: verification under load at two log sizes, time travel, the
live audit and its memory, and rebuilding the projections from the database."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.big import BigLedger, build
from bench.figures import PEAK_RSS_KB, Figure, best_rates, percentile, ratio_figure
from bench.places import Places
from bench.server import get_load, serve, settings_env, token
from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.runtime import open_runtime

TIME_TRAVEL_QUERIES = 400
# The goals, as ratios to the baseline measured in the same run.
VERIFY_THROUGHPUT_GOAL = 0.6  # at least, against the trivial JSON route
VERIFY_P99_GOAL = 1.5  # at most, against the trivial JSON route's p99 at the same concurrency
VERIFY_ROUNDS = 5  # alternated runs per route and log; each measure's best counts
TURNS = f"the best of {VERIFY_ROUNDS} runs each, taking turns with the other route and log"
TIME_TRAVEL_GOAL = 1.5  # at most: p50 against the same trainer's present status
MEMORY_GOAL = 1.1  # at most: peak RSS on the large log against the small one
MEMORY_LIMIT_MB = 300
REBUILD_ROUNDS = 2  # runs of a rebuild or a live audit and of its baseline, taking turns


@dataclass
class Ledger:
    settings: Settings
    big: BigLedger
    keys: str


def make_ledger(places: Places, backend: str, total: int) -> Ledger:
    name = f"h{total}"
    settings = places.settings(backend, name)
    runtime = open_runtime(settings)
    try:
        big = build(runtime, total)
    finally:
        runtime.close()
    return Ledger(settings, big, name)


PDF_CLIENTS = 32
PDF_SECONDS = 5.0


@contextmanager
def pdf_clients(base: str, ids: list[str], clients: int) -> Iterator[dict[str, float]]:
    """`clients` threads asking for certificate PDFs without pause while the body runs; the
    counts of answers and of 429 refusals are filled in when it ends."""
    stop = threading.Event()
    counts = {"answered": 0.0, "refused": 0.0}
    lock = threading.Lock()

    def ask(n: int) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                answer = client.get(f"{base}/credentials/{ids[n % len(ids)]}.pdf")
                with lock:
                    counts["answered"] += 1
                    counts["refused"] += answer.status_code == 429
                n += clients

    threads = [threading.Thread(target=ask, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield counts
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def verification_figures(
    backend: str, small: Ledger, large: Ledger, seconds: float
) -> list[Figure]:
    """GET /verify/{id} JSON at 64 connections against a trivial JSON route (/healthz) served by
    the same server configuration, on a small and a large log."""
    measured: dict[str, dict[str, dict[str, float]]] = {}
    rss: dict[str, float] = {}
    settled: dict[str, float] = {}
    with serve(small.settings) as on_small, serve(large.settings) as on_large:
        servers = {"small": (on_small, small), "large": (on_large, large)}
        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            label: {"trivial": [], "verify": []} for label in servers
        }
        # Both logs served at once and measured in turns, VERIFY_ROUNDS times: a stall of the
        # shared machine then falls on either side alike instead of on whichever ran last.
        for _ in range(VERIFY_ROUNDS):
            for label, (server, ledger) in servers.items():
                urls = [f"{server.base}/verify/{i}" for i in ledger.big.certificates]
                runs[label]["trivial"].append(get_load([f"{server.base}/healthz"], seconds))
                runs[label]["verify"].append(get_load(urls, seconds))
        for label, (server, _) in servers.items():
            measured[label] = {route: best_run(done) for route, done in runs[label].items()}
            # Read before the PDF clients, which run on the large log only: rendering PDFs
            # needs memory of its own (fonts, layout), the same at any log size.
            rss[label] = server.peak_rss_mb()
            settled[label] = server.rss_mb()
        ids = large.big.certificates
        with pdf_clients(on_large.base, ids, PDF_CLIENTS) as pdfs:
            # Not shorter than a few seconds: the first answers wait behind renders.
            measured["large"]["under_pdfs"] = get_load(
                [f"{on_large.base}/verify/{i}" for i in ids], max(seconds, PDF_SECONDS)
            )
        measured["large"]["pdfs"] = pdfs
        rss["with_pdfs"] = on_large.peak_rss_mb()
    big = measured["large"]
    size = f"{large.big.log_size:,}-record log"
    return [
        ratio_figure(
            f"GET /verify/{{id}} JSON, 64 connections, {size}",
            backend,
            big["verify"]["requests_per_second"],
            "req/s",
            big["trivial"]["requests_per_second"],
            VERIFY_THROUGHPUT_GOAL,
            f">= {VERIFY_THROUGHPUT_GOAL}x trivial JSON route",
            detail=f"{big['verify']['errors']:.0f} failed; {TURNS}",
        ),
        ratio_figure(
            f"GET /verify/{{id}} p99 latency, 64 connections, {size}",
            backend,
            big["verify"]["p99_ms"],
            "ms",
            big["trivial"]["p99_ms"],
            VERIFY_P99_GOAL,
            f"<= {VERIFY_P99_GOAL}x trivial JSON route's p99",
            detail=f"p50 {big['verify']['p50_ms']:.1f} ms "
            f"(trivial route p50 {big['trivial']['p50_ms']:.1f} ms); {TURNS}",
            at_most=True,
        ),
        Figure(
            f"GET /verify/{{id}} p50 while {PDF_CLIENTS} clients ask for PDFs, {size}",
            backend,
            big["under_pdfs"]["p50_ms"],
            "ms",
            big["verify"]["p50_ms"],
            big["under_pdfs"]["p50_ms"] / big["verify"]["p50_ms"],
            "informative (PDFs cached per log size, fresh renders rationed per client)",
            None,
            detail=f"p99 {big['under_pdfs']['p99_ms']:.1f} ms; PDF answers"
            f" {big['pdfs']['answered']:.0f}, of which 429 {big['pdfs']['refused']:.0f}",
        ),
        ratio_figure(
            f"GET /verify/{{id}} throughput, {size} vs {small.big.log_size:,}",
            backend,
            big["verify"]["requests_per_second"],
            "req/s",
            measured["small"]["verify"]["requests_per_second"],
            0.9,
            ">= 0.9x the small log",
            detail=TURNS,
        ),
        memory_figure(
            f"peak RSS of the server under the verification load, {size} vs {small.big.log_size:,}",
            backend,
            rss["large"],
            rss["small"],
            detail=f"RSS after the load {settled['large']:.1f} MB"
            f" ({settled['small']:.1f} MB on the small log); peak once {PDF_CLIENTS} clients"
            f" have asked for PDFs too {rss['with_pdfs']:.1f} MB",
        ),
    ]


def best_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each measure at its best over alternated runs (throughput highest, latencies lowest), with
    the failures of all of them."""
    return {
        "requests_per_second": max(r["requests_per_second"] for r in runs),
        "p50_ms": min(r["p50_ms"] for r in runs),
        "p99_ms": min(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def memory_figure(name: str, backend: str, large: float, small: float, detail: str = "") -> Figure:
    """Peak RSS on the large log against the small one: flat in log size, and under a ceiling."""
    return ratio_figure(
        name,
        backend,
        large,
        "MB",
        small,
        MEMORY_GOAL,
        f"<= {MEMORY_GOAL}x the small log, and < {MEMORY_LIMIT_MB} MB",
        detail,
        at_most=True,
        limit=MEMORY_LIMIT_MB,
    )


def time_travel_figures(backend: str, ledger: Ledger) -> list[Figure]:
    """GET /trainers/{id}/status with as_of and known_at, for the trainer with 200 events, one
    keep-alive client, against the same query for the present."""
    secret = token(ledger.settings, "bench-auditor", Role.AUDITOR)
    trainer = ledger.big.busy_trainer
    size = ledger.big.log_size
    dates = ["2017-03-01", "2019-06-30", "2021-01-15", "2023-09-01", "2026-05-31"]
    known = ledger.big.history_size
    sizes = [known, known + (size - known) // 3, known + (size - known) // 2, size]

    def latencies(client: httpx.Client, params: list[dict[str, str]]) -> list[float]:
        found = []
        for query in params:
            started = time.perf_counter()
            response = client.get(f"/v1/trainers/{trainer}/status", params=query)
            found.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        return found

    past = [
        {"as_of": dates[n % len(dates)], "known_at": str(sizes[n % len(sizes)])}
        for n in range(TIME_TRAVEL_QUERIES)
    ]
    with serve(ledger.settings) as server:
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
            latencies(client, past[:20])  # warm the connection and the caches
            # Taking turns, query by query: a stall of the machine falls on either side alike.
            now, then = [], []
            for query in past:
                now += latencies(client, [{}])
                then += latencies(client, [query])
    p50, base50 = percentile(then, 0.5), percentile(now, 0.5)
    return [
        ratio_figure(
            f"time travel: trainer status as_of + known_at, {ledger.big.busy_trainer_events}"
            f" events, {size:,}-record log, p50",
            backend,
            p50,
            "ms",
            base50,
            TIME_TRAVEL_GOAL,
            f"<= {TIME_TRAVEL_GOAL}x the present status",
            detail=f"p99 {percentile(then, 0.99):.1f} ms; baseline: the same trainer's"
            f" present status, p50, the two asked in turns",
            at_most=True,
        )
    ]


def live_audit_figures(backend: str, small: Ledger, large: Ledger) -> list[Figure]:
    """`ledger audit --live` on the database, against SHA-256 of the same record bytes read by
    the same storage; and the audit's peak RSS at both sizes."""
    from ledger.audit.auditor import Auditor
    from ledger.audit.bundle import DatabaseSource

    runtime = open_runtime(large.settings)
    try:
        storage = runtime.log_storage
        keyring = runtime.store.signing.keyring

        def hashing() -> int:
            n = 0
            for row in storage.all_events():
                hashlib.sha256(b"\x00" + row.data).digest()
                n += 1
            return n

        def audit() -> int:
            report = Auditor(keyring).audit(DatabaseSource(storage, keyring))
            assert report.ok, report.first_problem
            return report.records

        best = best_rates({"hash": hashing, "audit": audit}, REBUILD_ROUNDS)
        hash_rate, audit_rate = best["hash"], best["audit"]
    finally:
        runtime.close()
    small_rss, large_rss = audit_rss(small.settings), audit_rss(large.settings)
    return [
        ratio_figure(
            f"live audit of {large.big.log_size:,} records (ledger audit --live)",
            backend,
            audit_rate,
            "records/s",
            hash_rate,
            0.5,
            ">= 0.5x hashlib over the same rows",
            detail=f"the best of {REBUILD_ROUNDS} runs each, taking turns",
        ),
        memory_figure(
            f"peak RSS of the live audit, {large.big.log_size:,} records vs {small.big.log_size:,}",
            backend,
            large_rss,
            small_rss,
        ),
    ]


def audit_rss(settings: Settings) -> float:
    """`ledger audit --live --json` in its own process; its peak RSS in MB."""
    code = (
        "import runpy, sys; sys.argv = ['ledger', 'audit', '--live', '--json'];"
        "\ntry:\n    runpy.run_module('ledger', run_name='__main__')"
        "\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code"
        f"\nprint({PEAK_RSS_KB}, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["ok"] is True
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def rebuild_figures(backend: str, ledger: Ledger) -> list[Figure]:
    """Rebuild every projection from the database, against reading and decoding the same events
    from the same table without projecting."""
    from ledger.views.sql import events_after
    from projections.base import Event

    runtime = open_runtime(ledger.settings)
    try:
        db = runtime.db

        def decode() -> int:
            last, position = 0, 0
            while True:
                with db.read() as tx:
                    rows = events_after(tx, db, last, 500)
                if not rows:
                    return position
                for _, data in rows:
                    Event.from_record(position, data)
                    position += 1
                last = rows[-1][0]

        def rebuild() -> int:
            runtime.runner.rebuild_many(list(runtime.runner.projections))
            return ledger.big.log_size

        best = best_rates({"decode": decode, "rebuild": rebuild}, REBUILD_ROUNDS)
        decode_rate, rebuild_rate = best["decode"], best["rebuild"]
    finally:
        runtime.close()
    return [
        ratio_figure(
            f"replay: rebuild every projection (one pass) from {ledger.big.log_size:,} records",
            backend,
            rebuild_rate,
            "records/s",
            decode_rate,
            0.5,
            ">= 0.5x reading and decoding alone",
            detail=f"the best of {REBUILD_ROUNDS} runs each, taking turns",
        )
    ]


def export(ledger: Ledger, folder: Path) -> Path:
    from ledger.audit.bundle import export_bundle

    runtime = open_runtime(ledger.settings)
    try:
        projections = {
            s.name: {"version": s.version, "digest": s.digest, "position": s.position}
            for s in runtime.runner.status()
        }
        export_bundle(runtime.log_storage, runtime.store.signing.keyring, folder, projections)
    finally:
        runtime.close()
    return folder
