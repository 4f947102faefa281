"""Writing a published tree: atomic files (temp file, fsync, rename) and the run's state.

The state file keeps, per published file, a digest of what matters in it (not its signature
times), so a run rewrites only what changed. Its keys are SHA-256 digests of the paths: the
certificate ids in the paths are unguessable and the state must not list them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = ".publish-state.json"


def write_atomic(directory: Path, relative: str, data: bytes) -> None:
    """Write `data` at `directory/relative` so a reader sees the old file or the new, whole."""
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def path_key(relative: str) -> str:
    return hashlib.sha256(relative.encode()).hexdigest()


def digest(value: Any) -> str:
    text = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True).encode()
    return hashlib.sha256(text).hexdigest()


@dataclass
class State:
    """What the last run published: its checkpoint's tree size and a digest per file."""

    size: int = 0
    digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> State:
        try:
            data = json.loads((directory / STATE_FILE).read_text())
            return cls(int(data["size"]), {str(k): str(v) for k, v in data["digests"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()  # none yet, or unreadable: publish everything again

    def unchanged(self, relative: str, stable: str, directory: Path) -> bool:
        return self.digests.get(path_key(relative)) == stable and (directory / relative).is_file()

    def note(self, relative: str, stable: str) -> None:
        self.digests[path_key(relative)] = stable

    def save(self, directory: Path) -> None:
        text = json.dumps({"size": self.size, "digests": self.digests}, sort_keys=True)
        write_atomic(directory, STATE_FILE, text.encode())
