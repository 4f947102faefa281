"""The drill's table, and its results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = (
    ("scenario", 16),
    ("backend", 8),
    ("acknowledged", 12),
    ("found", 6),
    ("lost", 4),
    ("duplicated", 10),
    ("unresolved", 10),
    ("wrong answers", 13),
    ("audit", 5),
    ("recovery", 8),
)


def cells(row: dict[str, Any]) -> list[str]:
    if "skipped" in row:
        return [row["scenario"], row["backend"], f"skipped: {row['skipped']}"]
    if "sent" not in row:
        return [row["scenario"], row["backend"], f"error: {row.get('error', '?')}"]
    recovery = row["recovery_s_max"]
    return [
        row["scenario"],
        row["backend"],
        str(row["acknowledged"]),
        str(row["found"]),
        str(row["lost"]),
        str(row["duplicated"]),
        str(row["unresolved"]),
        str(row["wrong_answers"]),
        "pass" if row["audit"]["passed"] else "FAIL",
        "-" if recovery is None else f"{recovery:.1f} s",
    ]


def table(rows: list[dict[str, Any]]) -> str:
    header = "  ".join(name.ljust(width) for name, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        values = cells(row)
        widths = [width for _, width in COLUMNS][: len(values)]
        lines.append("  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip())
        if row.get("error") and "sent" in row:
            lines.append(f"    error: {row['error'][:300]}")
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
