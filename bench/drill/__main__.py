"""`python -m bench.drill [--full] [--backend sqlite|postgres|both] [--out DIR]`: runs every
scenario on each backend, prints the table and writes bench/results/drill-<date>-<plan>.json;
exits 1 unless every scenario that ran lost nothing, duplicated nothing, left no key
unresolved, answered no key wrongly and audited clean."""

from __future__ import annotations

import argparse
import asyncio
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.drill import report
from bench.drill.plan import FULL, SHORT
from bench.drill.processes import ROOT, DrillError
from bench.drill.runner import run_scenario
from bench.drill.scenarios import SCENARIOS

BACKENDS = {"sqlite": ("sqlite",), "postgres": ("postgres",), "both": ("sqlite", "postgres")}


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


async def _drill(args: argparse.Namespace, run: str, workdir: Path) -> list[dict[str, Any]]:
    plan = FULL if args.full else SHORT
    rows = []
    seed = args.seed
    for backend in BACKENDS[args.backend]:
        for scenario in SCENARIOS:
            if backend not in scenario.backends or (args.only and scenario.name not in args.only):
                continue
            print(f"drill: {scenario.name} on {backend} ...", file=sys.stderr, flush=True)
            where = workdir / f"{scenario.name}-{backend}"
            try:
                row = await run_scenario(scenario, backend, plan, where, run, seed)
            except (DrillError, RuntimeError, OSError) as exc:
                row = {"scenario": scenario.name, "backend": backend, "error": str(exc)}
                row["passed"] = False
            rows.append(row)
            seed += 1
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drill", description=__doc__)
    parser.add_argument("--full", action="store_true", help="more cycles, longer load")
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="both")
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seed", type=int, default=17, help="when the faults strike")
    parser.add_argument("--keep", action="store_true", help="keep the ledgers and their logs")
    args = parser.parse_args(argv)
    plan = FULL if args.full else SHORT
    run = secrets.token_hex(3)
    started = datetime.now(UTC)
    workdir = Path(tempfile.mkdtemp(prefix="ledger-drill-"))
    rows = asyncio.run(_drill(args, run, workdir))
    results = {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "plan": plan.name,
        "plan_settings": asdict(plan),
        "seed": args.seed,
        "commit": _commit(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "rows": rows,
        "passed": all(row.get("passed", True) for row in rows),
    }
    out = args.out / f"drill-{results['date']}-{plan.name}.json"
    report.write(results, out)
    print(report.table(rows))
    print(f"results: {out}")
    if args.keep:
        print(f"ledgers and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
