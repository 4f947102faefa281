"""Forgery drill (c): an impostor ledger with the same origin and the same public URL, audited by
URL (`ledger audit URL --trust FILE`), fails naming its genesis; the real ledger passes.

Both are real server processes (`python -m ledger serve`) on the test's backend, each with its
own keys, so their identities differ only in what the trust root pins.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.runtime import open_runtime
from tests.builders import qualified
from tests.conftest import make_settings
from tests.e2e.conftest import Server, start_server, stop_server
from tests.trust_support import (
    bare_env,
    cli,
    fingerprint_of,
    first_line,
    no_traceback,
    ok,
    read_json,
    settings_env,
)


def populate(settings: Settings) -> None:
    """A qualification's history, sequenced and checkpointed."""
    runtime = open_runtime(settings, clock=ManualClock(datetime(2017, 6, 1, 9, tzinfo=UTC)))
    try:
        qualified(runtime.service)
        runtime.catch_up()
    finally:
        runtime.close()


@pytest.fixture
def two_servers(
    backend: str, settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, Server]]:
    impostor = make_settings(backend, tmp_path / "impostor", request)
    assert (impostor.origin, impostor.public_url) == (settings.origin, settings.public_url)
    populate(settings)
    populate(impostor)
    real = start_server(settings)
    try:
        fake = start_server(impostor)
        try:
            yield real, fake
        finally:
            stop_server(fake)
    finally:
        stop_server(real)


def audit(server: Server, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ledger audit URL` with an auditor's token (the full records are for auditors)."""
    token = server.token("auditor", Role.AUDITOR)
    result = cli("audit", server.base, "--token", token, *args, env=bare_env(), cwd=cwd)
    no_traceback(result)
    return result


def test_an_impostor_audited_by_url_fails_naming_its_genesis_and_the_real_ledger_passes(
    two_servers: tuple[Server, Server], tmp_path: Path
) -> None:
    real, impostor = two_servers
    # The owner publishes the trust root apart from the ledger; the served copy is the same.
    published = ok(cli("trust-root", env=settings_env(real.settings), cwd=tmp_path)).stdout
    (tmp_path / "trust-root.json").write_text(published)
    assert httpx.get(f"{real.base}/log/trust-root", timeout=30).text == published
    fingerprint = fingerprint_of(tmp_path / "trust-root.json")
    served = httpx.get(f"{impostor.base}/log/trust-root", timeout=30).json()
    assert served["origin"] == read_json(tmp_path / "trust-root.json")["origin"]
    assert served["genesis"] != read_json(tmp_path / "trust-root.json")["genesis"]

    passed = audit(real, tmp_path, "--trust", "trust-root.json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert first_line(passed).startswith("PASS: ")
    assert f"trust root {fingerprint} (the trust root given)" in first_line(passed)

    failed = audit(impostor, tmp_path, "--trust", "trust-root.json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    head = first_line(failed)
    assert head.startswith(
        f"FAIL at log position 0: does not chain to the trust root {fingerprint}: log position 0"
        f" (genesis {served['genesis'][:16]}…) is not the trust root's genesis"
    )
    assert f"its keys {', '.join(k['kid'] for k in served['keys'])} are not the trust root's" in (
        head
    )

    # Pinned by its own (served) trust root the impostor is consistent: only the pin tells.
    (tmp_path / "impostor-root.json").write_text(
        httpx.get(f"{impostor.base}/log/trust-root", timeout=30).text
    )
    own = audit(impostor, tmp_path, "--trust", "impostor-root.json")
    assert own.returncode == 0, own.stdout + own.stderr
    unpinned = audit(impostor, tmp_path)
    assert unpinned.returncode == 3
    assert first_line(unpinned).startswith("CONSISTENT, NOT PINNED: ")
