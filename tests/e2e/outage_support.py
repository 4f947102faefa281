"""What the crash, outage, full-disk and read-only tests share: the write they send again and
again (a programme, titled by a non-personal marker, under its own Idempotency-Key) and the live
audit they end with."""

from __future__ import annotations

import subprocess
import sys

import httpx

from ledger.config import Settings
from tests.e2e.conftest import ROOT, server_env


def programme(title: str) -> dict[str, object]:
    return {
        "title": title,
        "starts_on": "2024-01-15",
        "ends_on": "2024-06-28",
        "material_version": "2024.1",
    }


def keyed_write(client: httpx.Client, title: str) -> httpx.Response:
    """Open the programme `title`, with `title` as its Idempotency-Key."""
    return client.post("/v1/programmes", json=programme(title), headers={"Idempotency-Key": title})


def live_audit(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`ledger audit --live --json` on the ledger of `settings`."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", "audit", "--live", "--json"],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
