"""The short path of command POSTs (ledger.api.lean_commands): it takes the usual case of every
command route, answers exactly as the framework does, and leaves every other request to it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.middleware import Middleware

from ledger.api.app import create_app
from ledger.api.auth import TokenStore
from ledger.api.lean_commands import LEAN, LeanCommands, plan, tried_routes
from ledger.api.routes.ops import REGISTRY
from ledger.api.security_headers import HEADERS
from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.db import Database
from ledger.domain.actors import Role
from ledger.runtime import open_runtime
from tests.conftest import make_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OTHER_PARAMETERS = {  # `week`: a number
    "/v1/programmes/{programme_id}/weeks/{week}/attendance",
    "/v1/programmes/{programme_id}/enrolments/{person_id}/attendance/{week}/correction",
}
COURSE = {"delivered_on": "2017-05-02", "region": "Bavaria", "participants": 12}


def _routes(app: Any) -> Iterator[APIRoute]:
    return (r for r in tried_routes(list(app.router.routes)) if isinstance(r, APIRoute))


@contextmanager
def _client(settings: Settings, clock: ManualClock, *, lean: bool) -> Iterator[tuple[Any, Any]]:
    runtime = open_runtime(settings, clock=clock)
    app = create_app(runtime, run_worker=True)
    app.short_path = lean  # without it, the framework alone, as before the short path
    try:
        with TestClient(app) as client:
            yield client, app
    finally:
        runtime.close()


def _served(app: Any) -> int:
    """How many requests the short path answered itself."""
    layer = app.middleware_stack
    return layer.served if isinstance(layer, LeanCommands) else 0


def _counted(route: str, status: int) -> float:
    """Answers counted so far under `route` with `status` (/metrics)."""
    found = REGISTRY.get_sample_value(
        "ledger_http_requests_total", {"method": "POST", "route": route, "status": str(status)}
    )
    return found or 0.0


def test_every_command_route_is_planned_but_those_with_other_parameters(
    settings: Settings, clock: ManualClock
) -> None:
    runtime = open_runtime(settings, clock=clock)
    try:
        app = create_app(runtime, run_worker=False)
        commands = [r for r in _routes(app) if r.endpoint in LEAN]
    finally:
        runtime.close()
    assert len(commands) > 25
    unplanned = {r.path for r in commands if plan(r) is None}
    assert unplanned == OTHER_PARAMETERS
    assert all(isinstance(m, Middleware) for m in app.user_middleware)


def _scenario(client: Any, settings: Settings) -> list[tuple[Any, ...]]:
    """The same requests, each one's status, kind of problem and field, replay header, and the
    answer's keys (ids differ between ledgers; log positions do not)."""
    db = Database(settings)
    try:
        tokens = TokenStore(db)
        registrar = tokens.create("Rosa Registrar", Role.REGISTRAR)
        tutor = tokens.create("Tom Tutor", Role.TUTOR, "00000000-0000-4000-8000-000000000001")
    finally:
        db.close()
    auth = {"Authorization": f"Bearer {registrar}"}
    person = client.post(
        "/v1/people",
        json={
            "name": "Ida Beispiel",
            "email": "ida.beispiel@example.org",
            "organisation": "Example Cluster Agency",
            "region": "Bavaria",
            "country": "Germany",
        },
        headers=auth,
    )
    assert person.status_code == 201, person.text
    courses = f"/v1/people/{person.json()['id']}/courses"
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (courses, {"json": COURSE}, {**auth, "Idempotency-Key": "k1"}),
        (courses, {"json": COURSE}, {**auth, "Idempotency-Key": "k1"}),  # replayed
        (courses, {"json": {**COURSE, "participants": 3}}, {**auth, "Idempotency-Key": "k1"}),
        (courses, {"json": COURSE}, {**auth, "Idempotency-Key": "x" * 201}),
        ("/v1/people/00000000-0000-4000-8000-00000000abcd/courses", {"json": COURSE}, auth),
        (courses, {"json": {**COURSE, "participants": "many"}}, auth),
        (courses, {"content": b"{not json"}, {**auth, "Content-Type": "application/json"}),
        (courses, {"content": b"delivered_on=2019-06-01"}, {**auth, "Content-Type": "text/plain"}),
        (courses, {"json": COURSE}, {}),
        (courses, {"json": COURSE}, {"Authorization": "Bearer ledger_unknown"}),
        (courses, {"json": COURSE}, {"Authorization": f"Bearer {tutor}"}),
        (courses, {"json": {**COURSE, "region": "R" * settings.max_body_bytes}}, auth),
        (courses, {"json": COURSE}, auth),
    ]
    seen = []
    for path, body, headers in requests:
        answer = client.post(path, headers=headers, **body)
        data = answer.json()
        seen.append(
            (
                answer.status_code,
                data.get("type"),
                data.get("field"),
                answer.headers.get("idempotent-replayed"),
                answer.headers.get("content-type"),
                sorted(data),
                data.get("positions"),
                data.get("projected"),
                {name: answer.headers.get(name) for name in HEADERS},
            )
        )
    return seen


def test_the_short_path_answers_every_request_as_the_framework_does(
    backend: str,
    clock: ManualClock,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    answers, served, counted = [], [], []
    route = "/v1/people/{person_id}/courses"
    for lean in (True, False):
        settings = make_settings(backend, tmp_path_factory.mktemp("ledger"), request)
        before = [_counted(route, status) for status in (201, 413, 422)]
        with _client(settings, clock, lean=lean) as (client, app):
            answers.append(_scenario(client, settings))
            served.append(_served(app))
        after = [_counted(route, status) for status in (201, 413, 422)]
        counted.append([a - b for a, b in zip(after, before, strict=True)])
    short, framework = answers
    assert short == framework
    statuses = [201, 201, 422, 422, 404, 422, 422, 422, 401, 401, 403, 413, 201]
    assert [a[0] for a in short] == statuses
    assert short[1][3] == "true"  # the replay
    assert short[2][1].endswith("/idempotency-key-reused")
    assert short[11][1].endswith("/body-too-large")
    assert all(a[-1] == HEADERS for a in short)  # every answer carries the security headers
    # Taken by the short path: the person, the three keyed courses, the over-long key, the
    # unknown person and the last course; left to the framework: the six refused at the door
    # and the body over the limit.
    assert served == [7, 0]
    # Counted alike under the route's template: three created and five invalid (the body over
    # the limit is refused before any route is chosen, so not under this one).
    assert counted == [[3, 0, 5], [3, 0, 5]]
