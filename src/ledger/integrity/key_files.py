"""Private keys stay private: the ledger refuses to start on key files others can read.

A private key file must have no permission bits for its group or for other users (0600 or
0400), and neither may the folder holding the private keys (0700 or 0500): anyone else who can
read a signing key can sign records and checkpoints in the ledger's name.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

PRIVATE_DIR = "private"
OVERRIDE = "LEDGER_ALLOW_LOOSE_KEY_PERMISSIONS"


class KeyPermissionError(ValueError):
    """A private key file or its folder is open to other users."""


@dataclass(frozen=True)
class LoosePath:
    path: Path
    mode: int

    @property
    def fix(self) -> str:
        return f"chmod {'700' if stat.S_ISDIR(self.mode) else '600'} {self.path}"

    def describe(self) -> str:
        what = "private key folder" if stat.S_ISDIR(self.mode) else "private key file"
        return (
            f"{what} {self.path} has mode {stat.S_IMODE(self.mode):04o}, open to other users"
            f" (fix: {self.fix})"
        )


def loose_private_keys(keys_dir: Path) -> list[LoosePath]:
    """The private key folder and files under `keys_dir` that its group or others may use."""
    private = keys_dir / PRIVATE_DIR
    if not private.is_dir():
        return []
    found = []
    for path in [private, *sorted(private.iterdir())]:
        mode = path.stat().st_mode
        if mode & 0o077:
            found.append(LoosePath(path, mode))
    return found


def require_private_keys(keys_dir: Path) -> None:
    """Raise `KeyPermissionError` naming every loose path and its fix, if there is one."""
    loose = loose_private_keys(keys_dir)
    if loose:
        lines = "; ".join(item.describe() for item in loose)
        raise KeyPermissionError(
            f"refusing to use private keys others can read: {lines}."
            f" Set {OVERRIDE}=1 to start anyway."
        )
