"""64 clients at once against the real server, so that their commands share commits: clients
changing the same record (conflicts), commands the rules refuse, and the same Idempotency-Key
sent by two clients at once and again afterwards, all in the same groups. Afterwards every
acknowledged write is in the ledger exactly once, nothing refused is, every replay is the first
answer, and the live audit passes. Both backends."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from uuid import UUID

import httpx

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.store.application import open_store
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.outage_support import live_audit

CLIENTS = 64
COURSE = {"delivered_on": "2019-06-01", "region": "North", "participants": 10}
FUTURE = {"delivered_on": "2999-06-01", "region": "North", "participants": 10}


def _register(server: Server, token: str, count: int) -> list[str]:
    with server.client(token) as client:
        people = []
        for n in range(count):
            answer = client.post(
                "/v1/people",
                json={
                    "name": f"Alex Example {n}",
                    "email": f"alex{n}@example.org",
                    "organisation": "Example Rescue",
                    "region": "North",
                    "country": "Examplia",
                },
            )
            assert answer.status_code == 201, answer.text
            people.append(answer.json()["id"])
    return people


Request = tuple[str, str, dict[str, object], str]  # kind, person, body, Idempotency-Key


def _plan(people: list[str]) -> list[Request]:
    """16 clients on one person; 16 refused (a course in the future); 8 keys each sent by two
    clients; 16 on people of their own."""
    target, refused, keyed, plain = people[0], people[1:17], people[17:25], people[25:41]
    plan: list[Request] = [("conflict", target, COURSE, f"c-{n}") for n in range(16)]
    plan += [("refused", p, FUTURE, f"r-{n}") for n, p in enumerate(refused)]
    plan += [("retried", p, COURSE, f"k-{n}") for n, p in enumerate(keyed) for _ in range(2)]
    plan += [("plain", p, COURSE, f"p-{n}") for n, p in enumerate(plain)]
    assert len(plan) == CLIENTS
    return plan


async def _send_all(base: str, token: str, plan: list[Request]) -> list[httpx.Response]:
    start = asyncio.Event()

    async def one(person: str, body: dict[str, object], key: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            await client.get("/readyz")  # connected before the start
            await start.wait()
            return await client.post(f"/v1/people/{person}/courses", json=body)

    tasks = [asyncio.create_task(one(p, b, k)) for _, p, b, k in plan]
    await asyncio.sleep(0.5)
    start.set()
    return list(await asyncio.gather(*tasks))


def _events_of(server: Server, people: list[str]) -> dict[str, int]:
    store = open_store(server.settings, genesis=False)
    try:
        return {p: len(list(store.app.recorder.select_events(UUID(p)))) for p in people}
    finally:
        store.close()


def test_concurrent_commands_share_commits_and_each_behaves_as_alone(settings: Settings) -> None:
    server = start_server(settings, LEDGER_MAX_CONNECTIONS_PER_CLIENT=str(2 * CLIENTS))
    try:
        _concurrent_commands(server)
    finally:
        if server.process.poll() is None:
            stop_server(server)


def _concurrent_commands(server: Server) -> None:
    token = server.token("rosa", Role.REGISTRAR)
    people = _register(server, token, 41)
    plan = _plan(people)
    answers = asyncio.run(_send_all(server.base, token, plan))

    acknowledged: dict[str, dict[str, Any]] = {}  # key -> first answer's body
    written = Counter[str]()  # person -> acknowledged commands
    conflicts = 0
    for (kind, person, _, key), answer in zip(plan, answers, strict=True):
        if kind == "refused":
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.status_code != 409, answer.text
            continue
        if kind == "conflict" and answer.status_code == 409:
            assert answer.json()["type"].endswith("/conflict")
            conflicts += 1
            continue
        assert answer.status_code == 201, answer.text
        body = answer.json()
        if key in acknowledged:  # the second client of a key: the same answer, replayed
            assert body == acknowledged[key]
            continue
        acknowledged[key] = body
        written[person] += 1
    assert conflicts > 0  # 16 clients changing one record at once: not all can win
    assert 0 < written[people[0]] < 16
    assert all(written[p] == 1 for p in people[17:41])

    # Every acknowledged write once: its own log positions, no others.
    positions = [n for body in acknowledged.values() for n in body["positions"]]
    assert len(positions) == len(set(positions)) == len(acknowledged)
    assert all(body["projected"] is True for body in acknowledged.values())

    # Sent again afterwards, every key answers as it did first (refusals included).
    with server.client(token) as client:
        for (kind, person, body, key), first in zip(plan, answers, strict=True):
            if kind == "conflict":
                continue  # a conflict is not kept with its key: a retry runs the command again
            again = client.post(
                f"/v1/people/{person}/courses", json=body, headers={"Idempotency-Key": key}
            )
            assert again.status_code == first.status_code, again.text
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert again.json() == first.json()

    stop_server(server)
    counts = _events_of(server, people)
    for person in people:  # the registration, and each acknowledged course: nothing refused
        assert counts[person] == 1 + written[person], person
    audited = live_audit(server.settings)
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr[-2000:]
