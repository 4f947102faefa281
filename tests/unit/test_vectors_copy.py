"""The reference vectors under tests/vectors are byte-identical to the shared reference set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "vectors"
SHARED = Path(
    os.environ.get(
        "LEDGER_SHARED_VECTORS", Path(__file__).resolve().parents[3] / "shared" / "vectors"
    )
)


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_vendored_vectors_equal_the_shared_reference_vectors() -> None:
    if not SHARED.is_dir():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"shared reference vectors not found at {SHARED}")
        pytest.skip(f"shared reference vectors not found at {SHARED}")
    assert files(HERE) == files(SHARED)
