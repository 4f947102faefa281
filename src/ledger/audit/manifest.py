"""The bundle manifest checked against the files it describes (docs/ledger-format.md 12.1).

A manifest whose counts differ from the files means the bundle was cut or padded after export;
each problem is placed at the first log position the difference concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MEMBERS: dict[str, type] = {
    "format": str,
    "origin": str,
    "records": int,
    "checkpoints": int,
    "exported_at": str,
    "projections": bool,
}


def manifest_problems(
    manifest: Mapping[str, Any], *, origin: str, records: int, checkpoints: int, projections: bool
) -> list[tuple[int, str]]:
    """(log position, reason) for every way `manifest` differs from what the bundle holds."""
    found: list[tuple[int, str]] = []
    if set(manifest) != set(MEMBERS):
        found.append(
            (records, f"manifest members are {sorted(manifest)}, expected {sorted(MEMBERS)}")
        )
    for name, kind in MEMBERS.items():
        if name in manifest and type(manifest[name]) is not kind:
            found.append((records, f"manifest {name} is not of type {kind.__name__}"))
    if manifest.get("origin") != origin:
        found.append(
            (0, f"manifest origin {manifest.get('origin')!r} is not the key ring's {origin!r}")
        )
    claimed = manifest.get("records")
    if type(claimed) is int and claimed != records:
        found.append(
            (
                min(claimed, records),
                f"manifest counts {claimed} records, the bundle holds {records}",
            )
        )
    claimed = manifest.get("checkpoints")
    if type(claimed) is int and claimed != checkpoints:
        found.append(
            (records, f"manifest counts {claimed} checkpoints, the bundle holds {checkpoints}")
        )
    if type(manifest.get("projections")) is bool and manifest["projections"] != projections:
        found.append(
            (
                records,
                f"manifest says projections {manifest['projections']}, but projections.json"
                f" is {'present' if projections else 'absent'}",
            )
        )
    return found
