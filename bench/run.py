"""`make bench`: each figure measured next to its baseline in the same run, reported as a ratio.

    python -m bench.run [--events N] [--small N] [--append N] [--backends sqlite,postgres]
                        [--load-seconds S] [--out FILE] [--only GROUP,...]

For each backend: append (service layer and HTTP) against the plain eventsourcing library; the
CSV import of people with enrolments against the same commands one at a time (service layer and
HTTP); a ledger filled to --events records and one of --small records; verification under load on
both; verification with 50 slowloris connections open; time travel; the live audit; rebuilding
the projections; searching --small people; export and bulk import. Then, on the
exported bundle: the audit, the deep audit and the in-memory replay. Prints a table and writes
bench/results/<date>.json with the machine description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from bench import append, bundle, history
from bench.csv_import import csv_import_figures
from bench.figures import Figure
from bench.places import Places
from bench.search import search_figures
from bench.slow_clients import slow_clients_figures
from bench.static_tree import static_figures

ROOT = Path(__file__).resolve().parents[1]
GROUPS = (
    "append",
    "csv-import",
    "search",
    "slow-clients",
    "static",
    "verification",
    "time-travel",
    "audit",
    "replay",
    "import",
    "bundle",
)


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total = int(meminfo.readline().split()[1])
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        import psycopg

        from bench.places import PG_ADMIN

        with psycopg.connect(PG_ADMIN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        postgres = f"PostgreSQL {row[0] if row else '?'}"
    except Exception:  # the machine description must not stop the results
        postgres = "PostgreSQL (not reachable)"
    import sqlite3

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": total // 1024,
        "postgresql": postgres,
        "sqlite": sqlite3.sqlite_version,
        "load_generator": "wrk" if _has_wrk() else "bench/load.py (async httpx)",
    }


def _has_wrk() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def table(figures: list[Figure]) -> str:
    out = [f"{'figure':<78} {'backend':<10}{'value':>12} {'unit':<10}{'baseline':>10}  ratio  goal"]
    for f in figures:
        base = "-" if f.baseline is None else f"{f.baseline:,.1f}"
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}"
        mark = "" if f.met is None else ("met" if f.met else "MISSED")
        out.append(
            f"{f.name:<78} {f.backend:<10}{f.value:>12,.1f} {f.unit:<10}{base:>10}  {ratio:>5}"
            f"  {f.goal} {mark}".rstrip()
        )
        if f.detail:
            out.append(f"{'':<4}{f.detail}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="records in the large ledger")
    parser.add_argument("--small", type=int, default=10_000, help="records in the small ledger")
    parser.add_argument("--append", type=int, default=2000, help="commands per append figure")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--load-seconds", type=float, default=8.0)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"figure groups to measure (comma separated): {', '.join(GROUPS)}",
    )
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))}")
    wanted = {g for g in args.only.split(",") if g}
    if wanted - set(GROUPS):
        parser.error(f"--only: unknown {', '.join(sorted(wanted - set(GROUPS)))}")
    history_figures = wanted & {"verification", "time-travel", "audit", "replay"}
    figures: list[Figure] = []
    started = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {text}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        places = Places(Path(tmp))
        exported: Path | None = None
        try:
            if "postgres" in backends:
                places.create_database()
            for backend in backends:
                if "append" in wanted:
                    say(f"{backend}: append, service layer and HTTP ({args.append:,} each)")
                    figures += append.append_figures(places, backend, args.append)
                if "csv-import" in wanted:
                    people = min(args.append, 1000)
                    say(f"{backend}: CSV import of {people:,} people, and one at a time")
                    figures += csv_import_figures(places, backend, people)
                if "search" in wanted:
                    say(f"{backend}: searching {args.small:,} people")
                    figures += search_figures(places, backend, args.small)
                if "slow-clients" in wanted:
                    say(f"{backend}: verification with and without slowloris connections open")
                    figures += slow_clients_figures(places, backend, args.load_seconds)
                if "static" in wanted:
                    say(f"{backend}: the static publication served by Caddy, and the API")
                    figures += static_figures(places, backend, args.load_seconds)
                if not history_figures and not wanted & {"import", "bundle"}:
                    continue
                say(f"{backend}: filling ledgers of {args.small:,} and {args.events:,} records")
                small = history.make_ledger(places, backend, args.small)
                large = history.make_ledger(places, backend, args.events)
                if "verification" in wanted:
                    say(f"{backend}: verification under load")
                    figures += history.verification_figures(
                        backend, small, large, args.load_seconds
                    )
                if "time-travel" in wanted:
                    say(f"{backend}: time travel")
                    figures += history.time_travel_figures(backend, large)
                if "audit" in wanted:
                    say(f"{backend}: live audit")
                    figures += history.live_audit_figures(backend, small, large)
                if "replay" in wanted:
                    say(f"{backend}: rebuilding every projection")
                    figures += history.rebuild_figures(backend, large)
                if "import" in wanted or "bundle" in wanted:
                    say(f"{backend}: export and bulk import")
                    exported = history.export(large, Path(tmp) / f"bundle-{backend}")
                if "import" in wanted:
                    figures += append.import_figures(
                        places, backend, exported, large.big.log_size, large.keys
                    )
            if exported is not None and "bundle" in wanted:
                say("bundle: audit, deep audit, memory")
                figures += bundle.audit_figures(exported)
                figures.append(bundle.audit_memory(exported))
                say("bundle: replay in memory")
                figures += bundle.replay_figures(exported)
        finally:
            places.drop_database()
    say("done")
    print(table(figures))
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / f"{date.today().isoformat()}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine(),
        "arguments": vars(args),
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [asdict(f) for f in figures],
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results written to {out}")
    missed = [f.name for f in figures if f.met is False]
    if missed:
        print(f"{len(missed)} goal(s) missed: see the table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
