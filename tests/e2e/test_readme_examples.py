"""The README's examples work as written: every ```sh block that calls the API runs, in order,
in one shell, against a real server holding the demo (what `make run` serves), on both backends.

The only change made to the blocks is the server's address. Each `curl` must be answered below
400; `ledger` runs with the server's settings, as it does in the project's root after `make run`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.config import Settings
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server

README = ROOT / "README.md"
DOCUMENTED_BASE = "http://127.0.0.1:8000"
FENCE = re.compile(r"^```(sh|bash)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

# Answers of 400 and above fail the run, naming the request; the body is printed as curl would.
STRICT_CURL = r"""
curl() {
  local answer status
  answer=$(command curl --show-error --write-out '\n%{http_code}' "$@") || return 1
  status=${answer##*$'\n'}
  printf '%s\n' "${answer%$'\n'*}"
  if [ "$status" -ge 400 ]; then
    echo "README example failed: curl $* answered $status" >&2
    return 1
  fi
}
"""


def api_blocks(text: str) -> list[tuple[int, str]]:
    """The ```sh and ```bash blocks that call the API, with the line each starts on."""
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in FENCE.finditer(text)
        if "curl " in match.group(2)
    ]


def script(text: str, base: str) -> str:
    parts = ["set -euo pipefail", STRICT_CURL]
    for line, block in api_blocks(text):
        parts.append(f'echo "--- README.md line {line}" >&2')
        parts.append(block.replace(DOCUMENTED_BASE, base))
    return "\n".join(parts) + "\n"


@pytest.fixture
def demo_server(settings: Settings) -> Iterator[Server]:
    """The server `make run` starts: the demo history loaded, then served."""
    subprocess.run(
        [sys.executable, "-m", "ledger", "demo"],
        env=server_env(settings),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    running = start_server(settings)
    try:
        yield running
    finally:
        stop_server(running)


def test_every_curl_example_of_the_readme_is_in_a_block_that_is_run() -> None:
    text = README.read_text(encoding="utf-8")
    outside = FENCE.sub("", text)
    indented = [
        line for line in outside.splitlines() if line.startswith("    ") and "curl " in line
    ]
    assert indented == []
    assert len(api_blocks(text)) >= 10


def test_the_readme_examples_run_against_the_real_server(
    demo_server: Server, tmp_path: Path
) -> None:
    text = README.read_text(encoding="utf-8")
    env = server_env(demo_server.settings)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env["HOME"] = str(tmp_path)  # the reader's known-ledgers file, if any, stays here
    done = subprocess.run(
        ["bash", "-c", script(text, demo_server.base)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    steps = done.stderr.count("--- README.md line")
    assert steps == len(api_blocks(text))
    assert "VALID" in done.stdout
