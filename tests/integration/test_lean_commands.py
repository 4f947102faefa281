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
    if not lean:  # the framework alone, as before the short path
        app.user_middleware = [m for m in app.user_middleware if m.cls is not LeanCommands]
    try:
        with TestClient(app) as client:
            yield client, app
    finally:
        runtime.close()


def _served(app: Any) -> int:
    """How many requests the short path answered itself."""
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, LeanCommands):
        layer = getattr(layer, "app", None)
    return 0 if layer is None else layer.served


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
            )
        )
    return seen


def test_the_short_path_answers_every_request_as_the_framework_does(
    backend: str,
    clock: ManualClock,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    answers, served = [], []
    for lean in (True, False):
        settings = make_settings(backend, tmp_path_factory.mktemp("ledger"), request)
        with _client(settings, clock, lean=lean) as (client, app):
            answers.append(_scenario(client, settings))
            served.append(_served(app))
    short, framework = answers
    assert short == framework
    assert [a[0] for a in short] == [201, 201, 422, 422, 404, 422, 422, 422, 401, 401, 403, 201]
    assert short[1][3] == "true"  # the replay
    assert short[2][1].endswith("/idempotency-key-reused")
    # Taken by the short path: the person, the three keyed courses, the over-long key, the
    # unknown person and the last course; left to the framework: the six refused at the door.
    assert served == [7, 0]
