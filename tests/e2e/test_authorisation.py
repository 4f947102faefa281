"""Every route times every role, plus no token and a revoked token: the expected status code.

The expected access is written out here, route by route; the test also fails when the OpenAPI
document has a /v1 route this table does not know, so a new route cannot ship unreviewed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.e2e.conftest import Server, start_server, stop_server

A, R, T, C, U = Role.ADMIN, Role.REGISTRAR, Role.TUTOR, Role.COMMITTEE, Role.AUDITOR
RECORDERS, READERS = {A, R}, {A, R, T, C, U}
STAFF = {A, R, T, C}
ACCESS: list[tuple[str, str, set[Role]]] = [
    ("post", r"/v1/programmes", RECORDERS),
    ("post", r"/v1/programmes/{programme_id}/weeks", RECORDERS),
    ("post", r"/v1/materials", RECORDERS),
    ("post", r"/v1/people", RECORDERS),
    ("post", r"/v1/people/{person_id}/courses", RECORDERS),
    ("post", r"/v1/people/{person_id}/name-visibility", RECORDERS),
    ("post", r"/v1/people/{person_id}/public-listing", RECORDERS),
    ("post", r"/v1/people/{person_id}/erasure", {A}),
    ("post", r"/v1/programmes/{programme_id}/enrolments", RECORDERS),
    ("post", r"/v1/programmes/{programme_id}/enrolments/{person_id}/withdrawal", RECORDERS),
    ("post", r"/v1/programmes/{programme_id}/enrolments/{person_id}/attendance", {A, R, T}),
    ("post", r"/v1/programmes/{programme_id}/enrolments/batch", RECORDERS),
    ("post", r"/v1/programmes/{programme_id}/weeks/{week}/attendance", {A, R, T}),
    (
        "post",
        r"/v1/programmes/{programme_id}/enrolments/{person_id}/attendance/{week}/correction",
        RECORDERS,
    ),
    ("post", r"/v1/people/{person_id}/courses/{delivery_id}/retraction", RECORDERS),
    ("post", r"/v1/projects/{project_id}/sign-off/withdrawal", {A, R, T}),
    ("post", r"/v1/people/{person_id}/duplicate-of", RECORDERS),
    ("post", r"/v1/imports/{kind}", RECORDERS),
    ("get", r"/v1/imports/templates/{kind}.csv", RECORDERS),
    ("post", r"/v1/projects", RECORDERS),
    ("post", r"/v1/projects/{project_id}/members", RECORDERS),
    ("post", r"/v1/projects/{project_id}/tutor", RECORDERS),
    ("post", r"/v1/projects/{project_id}/sign-off", {T}),
    ("post", r"/v1/projects/{project_id}/return", {T}),
    ("post", r"/v1/qualifications", {C}),
    ("post", r"/v1/licences", {C}),
    ("post", r"/v1/licences/{certificate_id}/renewal", {C}),
    ("post", r"/v1/licences/{certificate_id}/suspension", {C}),
    ("post", r"/v1/licences/{certificate_id}/reinstatement", {C}),
    ("post", r"/v1/licences/{certificate_id}/scope-reduction", {C}),
    ("post", r"/v1/licences/{certificate_id}/revocation", {C}),
    ("post", r"/v1/instructor-certifications", {C}),
    ("post", r"/v1/instructor-certifications/{certificate_id}/renewal", {C}),
    ("post", r"/v1/instructor-certifications/{certificate_id}/revocation", {C}),
    ("post", r"/v1/appeals", RECORDERS),
    ("post", r"/v1/appeals/{appeal_id}/decision", {C}),
    ("get", r"/v1/trainers/{person_id}/status", READERS),
    ("get", r"/v1/trainers/{person_id}/history", READERS),
    ("get", r"/v1/certificates/{certificate_id}", READERS),
    ("get", r"/v1/programmes/{programme_id}/roster", READERS),
    ("get", r"/v1/people/{person_id}", RECORDERS),
    ("get", r"/v1/staff", {A}),
    ("get", r"/v1/audit/export", {A, U}),
    ("get", r"/v1/people", STAFF),
    ("get", r"/v1/programmes", STAFF),
    ("get", r"/v1/projects", STAFF),
    ("get", r"/v1/enrolments", STAFF),
    ("get", r"/v1/certificates", STAFF),
    ("get", r"/v1/certificates.csv", STAFF),
    ("get", r"/v1/programmes/{programme_id}/roster.csv", READERS),
    ("get", r"/v1/reports/counts", READERS),
    ("get", r"/v1/reports/counts.csv", READERS),
    ("get", r"/v1/reports/timeline", READERS),
    ("get", r"/v1/reports/timeline.csv", READERS),
    ("get", r"/v1/reports/summary", READERS),
]
PUBLIC = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/log/checkpoint",
    "/log/key",
    "/log/keyring",
    "/log/leaf-hashes?start=0&end=5",
    "/verify/LT-0000-0000-0000",
    "/openapi.json",
    "/docs",
    "/register.csv",
]


def concrete(path: str) -> str:
    path = path.replace("{week}", "1").replace("{kind}", "people")
    return re.sub(
        r"{certificate_id}",
        "LT-0000-0000-0000",
        re.sub(r"{(\w+)_id}", lambda _: str(uuid.uuid4()), path),
    )


def call(server: Server, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=server.base, timeout=30) as client:
        if method == "post":
            return client.post(path, json={}, headers=headers).status_code
        return client.get(path, headers=headers).status_code


def test_the_access_table_covers_every_v1_route(server: Server) -> None:
    spec = httpx.get(f"{server.base}/openapi.json").json()
    routes = {(m, p) for p, ops in spec["paths"].items() for m in ops if p.startswith("/v1")}
    assert routes == {(m, p) for m, p, _ in ACCESS}


@pytest.fixture
def lenient_server(settings: Settings) -> Iterator[Server]:
    """A server that does not rate-limit the matrix's deliberate failures."""
    running = start_server(settings, LEDGER_AUTH_FAILURES_PER_MINUTE="100000")
    try:
        yield running
    finally:
        stop_server(running)


def test_every_route_and_role_gets_the_expected_status(lenient_server: Server) -> None:
    server = lenient_server
    tokens = {
        role: server.token(f"matrix-{role}", role, str(uuid.uuid4()) if role in (T, C) else None)
        for role in Role
    }
    revoked = server.token("matrix-revoked", A)
    server.revoke("matrix-revoked")
    mismatches = []
    for method, path, allowed in ACCESS:
        target = concrete(path)
        for role, token in tokens.items():
            got = call(server, method, target, token)
            ok = got not in (401, 403) and got < 500 if role in allowed else got == 403
            if not ok:
                mismatches.append((method, path, str(role), got))
        for label, token in (("no token", None), ("revoked", revoked)):
            got = call(server, method, target, token)
            if got != 401:
                mismatches.append((method, path, label, got))
    assert mismatches == []


@pytest.mark.parametrize("path", PUBLIC)
def test_public_routes_need_no_token(server: Server, path: str) -> None:
    status = httpx.get(f"{server.base}{path}").status_code
    assert status in (200, 404)  # 404: no such certificate / no checkpoint yet, never 401


def test_repeated_failed_authentication_is_rate_limited(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=30) as client:
        codes = [
            client.get(
                "/v1/audit/export", headers={"Authorization": "Bearer ledger_wrong"}
            ).status_code
            for _ in range(11)
        ]
        assert codes[:10] == [401] * 10
        assert codes[10] == 429
        limited = client.get("/v1/audit/export", headers={"Authorization": "Bearer ledger_wrong"})
        assert int(limited.headers["Retry-After"]) > 0
        assert limited.headers["content-type"].startswith("application/problem+json")
