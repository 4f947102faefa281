"""`make bench` at a tiny size: every figure is measured, with its baseline and ratio, and the
results file carries the machine description (the full run is `make bench-full`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "append: service layer",
    "append: HTTP POST",
    "GET /verify/{id} JSON",
    "GET /verify/{id} p99",
    "GET /verify/{id} throughput",
    "GET /verify/{id} p50 while 32 clients ask for PDFs",
    "peak RSS of the server",
    "time travel",
    "live audit",
    "peak RSS of the live audit",
    "replay: rebuild every projection",
    "bulk import",
    "audit (leaves",
    "deep audit",
    "peak RSS of the bundle audit",
    "replay every projection in memory",
    "CSV import of",
    "CSV import over HTTP",
    "search people (directory)",
    "search people (page with names)",
    "static GET /verify/<id>.json (Caddy), 64 connections",
    "static GET /verify/<id>.json p99",
    "static GET /verify/<id>.json (Caddy) against the API",
    "reading, leaf hashes and tree alone",
}


def test_the_bench_command_measures_every_figure_against_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--events",
            "1500",
            "--small",
            "1000",
            "--append",
            "40",
            "--load-seconds",
            "1",
            "--backends",
            "sqlite",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["machine"]["cpus"] >= 1
    assert results["machine"]["memory_mb"] > 0
    figures = results["figures"]
    names = [f["name"] for f in figures]
    for prefix in EXPECTED:
        assert any(n.startswith(prefix) for n in names), (prefix, names)
    for figure in figures:
        assert figure["value"] > 0, figure
        if figure["ratio"] is not None:
            assert figure["baseline"] > 0
            assert abs(figure["ratio"] - figure["value"] / figure["baseline"]) < 1e-9
    assert "ratio" in done.stdout.splitlines()[0]
    assert f"results written to {out}" in done.stdout
