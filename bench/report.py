"""A results file as a Markdown table (for the README):

python -m bench.report bench/results/<date>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def markdown(results: dict) -> str:  # type: ignore[type-arg]
    machine = results["machine"]
    lines = [
        f"{machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_mb']:,} MB,"
        f" {machine['platform']}, Python {machine['python']}, {machine['postgresql']},"
        f" SQLite {machine['sqlite']}; load generator: {machine['load_generator']};"
        f" whole run {results['seconds'] / 60:.0f} min.",
        "",
        "| figure | backend | measured | baseline | ratio | goal | |",
        "|---|---|--:|--:|--:|---|---|",
    ]
    for f in results["figures"]:
        base = "" if f["baseline"] is None else f"{f['baseline']:,.1f}"
        ratio = "" if f["ratio"] is None else f"{f['ratio']:.2f}"
        mark = "" if f["met"] is None else ("met" if f["met"] else "**missed**")
        name = f["name"].replace("|", "\\|")
        detail = f" ({f['detail']})" if f.get("detail") else ""
        lines.append(
            f"| {name}{detail} | {f['backend']} | {f['value']:,.1f} {f['unit']} | {base}"
            f" | {ratio} | {f['goal']} | {mark} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
