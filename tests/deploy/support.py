"""Shared by the deployment tests: the deploy/ folder, the settings the ledger reads, tools."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Read by the image's `ledger` wrapper (deploy/ledger-env.sh), which turns it into
# LEDGER_DATABASE_URL; not a setting of the ledger itself.
WRAPPER_NAMES = frozenset({"LEDGER_DATABASE_URL_FILE"})
# Read by uvicorn: which proxies' X-Forwarded-For to trust.
SERVER_NAMES = frozenset({"FORWARDED_ALLOW_IPS"})


class _Recorder(dict[str, str]):
    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def ledger_setting_names() -> frozenset[str]:
    """Every LEDGER_* name the ledger reads: those Settings.from_env asks for, and those the
    API and command line read from the environment directly."""
    recorder = _Recorder()
    Settings.from_env(recorder)
    names = set(recorder.asked)
    pattern = re.compile(r"(?:environ\.get\(|getenv\(|environ\[)\s*\"(LEDGER_[A-Z_]+)\"")
    for path in (ROOT / "src" / "ledger").rglob("*.py"):
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return frozenset(names)


def unknown_names(names: set[str] | list[str]) -> set[str]:
    """The names among `names` that nothing reads."""
    known = ledger_setting_names() | WRAPPER_NAMES | SERVER_NAMES
    return {name for name in names if name not in known}


def tool(name: str) -> str:
    """The path of a checking tool (the test environment's own first); under CI a missing
    tool fails the test, elsewhere it skips it."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        message = f"{name} is not installed"
        if IN_CI:
            pytest.fail(f"{message}; CI installs it (pyproject test extra or .ci/run)")
        pytest.skip(message)
    return found


def walk(value: Any) -> Iterator[Any]:
    """Every mapping and list nested in a parsed YAML document, the document first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
