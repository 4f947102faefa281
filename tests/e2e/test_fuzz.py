"""Property-based fuzzing of the real server over its own OpenAPI document (schemathesis).

At least 1,000 generated requests: never a 5xx, every error body is problem+json, and afterwards
the ledger still audits clean (its records, chains, roots, checkpoints and projections).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings

from ledger.domain.actors import Role
from tests.conftest import KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "30"))
SENT = {"requests": 0, "by_status": {}}  # type: dict[str, object]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from ledger.config import Settings
    from ledger.integrity.keyring import KeyDirectory, init_keyring

    folder = tmp_path_factory.mktemp("fuzz")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    running = start_server(
        Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN),
        LEDGER_AUTH_FAILURES_PER_MINUTE="100000",
    )
    try:
        yield running
    finally:
        stop_server(running)


def content_type(headers: object) -> str:
    value = headers.get("content-type") or headers.get("Content-Type") or ""  # type: ignore[attr-defined]
    return str(value[0] if isinstance(value, list) else value)


def check(response: object, method: str, path: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    kind = content_type(response.headers)  # type: ignore[attr-defined]
    assert status < 500, (method, path, status, response.text[:500])  # type: ignore[attr-defined]
    if status >= 400 and "text/html" not in kind:
        assert kind.startswith("application/problem+json"), (method, path, status, kind)
        body = response.json()  # type: ignore[attr-defined]
        assert {"type", "title", "status", "detail"} <= set(body)
        assert body["status"] == status


def fuzz_operation(operation: object, base: str, headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    def run(case: schemathesis.Case) -> None:
        try:
            response = case.call(base_url=base, headers=headers)
        except UnicodeEncodeError:
            reject()  # lone surrogates cannot even be sent as UTF-8: not a request
        SENT["requests"] = int(SENT["requests"]) + 1  # type: ignore[call-overload]
        check(response, case.method, case.formatted_path)

    run()


def test_generated_requests_never_fail_the_server(fuzz_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        path = operation.path
        decision = any(w in path for w in ("licences", "qualif", "decision", "instructor"))
        role = Role.COMMITTEE if decision else Role.ADMIN
        person = str(uuid.uuid4()) if role is Role.COMMITTEE else None
        token = fuzz_server.token(f"fuzz-{role}", role, person)
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/v1") else {}
        fuzz_operation(operation, fuzz_server.base, headers)


def test_at_least_1000_requests_were_sent_and_the_ledger_audits_clean(
    fuzz_server: Server, tmp_path: Path
) -> None:
    assert int(SENT["requests"]) >= 1000 or os.environ.get("LEDGER_FUZZ_EXAMPLES"), SENT  # type: ignore[call-overload]
    print(f"\nfuzzing sent {SENT['requests']} generated requests")
    env = server_env(fuzz_server.settings)
    httpx.get(f"{fuzz_server.base}/readyz")
    audited = subprocess.run(
        [sys.executable, "-m", "ledger", "audit", "--live", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr[-2000:]
