"""The reference vectors under tests/vectors are byte-identical to the shared reference set.

`tests/vectors.sha256` records the SHA-256 of every file of the shared set (as `sha256sum`
writes it). The vendored copy is checked against it in every run; where the shared set itself
is beside the project (or at LEDGER_SHARED_VECTORS), it is checked against the same list.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
HERE = TESTS / "vectors"
MANIFEST = TESTS / "vectors.sha256"
SHARED = Path(
    os.environ.get(
        "LEDGER_SHARED_VECTORS", Path(__file__).resolve().parents[3] / "shared" / "vectors"
    )
)


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def manifest() -> dict[str, str]:
    found = {}
    for line in MANIFEST.read_text().splitlines():
        digest, name = line.split("  ", 1)
        found[name] = digest
    return found


def test_vendored_vectors_equal_the_shared_reference_vectors() -> None:
    expected = manifest()
    assert len(expected) > 100
    assert digests(HERE) == expected
    if SHARED.is_dir():
        assert digests(SHARED) == expected
