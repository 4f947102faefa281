"""Private keys others can read are refused at start-up, naming the file and the fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.integrity.key_files import loose_private_keys
from tests.e2e.conftest import ROOT, free_port, server_env, start_server, stop_server


@pytest.fixture
def backend() -> str:
    return "sqlite"


def private_files(settings: Settings) -> list[Path]:
    return sorted((settings.keys_dir / "private").iterdir())


def serve(settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", "serve", "--port", str(free_port()), "--quiet"],
        env=server_env(settings, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_0644_private_key_is_refused_at_start_naming_the_file(settings: Settings) -> None:
    key = private_files(settings)[0]
    key.chmod(0o644)
    result = serve(settings)
    assert result.returncode == 1
    assert f"private key file {key} has mode 0644" in result.stderr
    assert f"chmod 600 {key}" in result.stderr
    assert "LEDGER_ALLOW_LOOSE_KEY_PERMISSIONS=1" in result.stderr


def test_a_private_key_folder_open_to_others_is_refused(settings: Settings) -> None:
    folder = settings.keys_dir / "private"
    folder.chmod(0o777)
    result = serve(settings)
    assert result.returncode == 1
    assert f"private key folder {folder} has mode 0777" in result.stderr


def test_the_explicit_override_starts_the_ledger_anyway(settings: Settings) -> None:
    private_files(settings)[0].chmod(0o644)
    running = start_server(settings, LEDGER_ALLOW_LOOSE_KEY_PERMISSIONS="1")
    stop_server(running)


def test_keys_as_created_are_private(settings: Settings) -> None:
    assert private_files(settings)
    assert loose_private_keys(settings.keys_dir) == []
