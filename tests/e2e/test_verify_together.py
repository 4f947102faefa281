"""64 clients verifying at once against the real server: on PostgreSQL their reads share
statements (one per batch of requests in flight), on SQLite each reads alone. Every client gets
the answer of the certificate it asked for, with the status the demo gave it, and an unknown id
is 404 without disturbing the answers read in the same batch. Both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ledger.config import Settings
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.privacy_support import load_demo

CLIENTS = 64
ROUNDS = 5
UNKNOWN = "LT-0000-0000-0000"


async def _verify_all(base: str, asked: list[str]) -> list[tuple[str, httpx.Response]]:
    start = asyncio.Event()

    async def client(offset: int) -> list[tuple[str, httpx.Response]]:
        answers = []
        headers = {"Accept": "application/json"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            await http.get("/healthz")  # connected before the start
            await start.wait()
            for n in range(ROUNDS):
                certificate = asked[(offset + n * 7) % len(asked)]
                answers.append((certificate, await http.get(f"/verify/{certificate}")))
        return answers

    tasks = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
    await asyncio.sleep(0.5)
    start.set()
    return [answer for answers in await asyncio.gather(*tasks) for answer in answers]


def test_clients_verifying_at_once_each_get_their_own_answer(settings: Settings) -> None:
    certificates = load_demo(settings)
    status_of = {c: status for status, ids in certificates.items() for c in ids}
    assert {"valid", "suspended", "revoked"} <= set(certificates)
    asked = [*status_of, UNKNOWN]
    server = start_server(settings, LEDGER_MAX_CONNECTIONS_PER_CLIENT=str(2 * CLIENTS))
    try:
        answers = asyncio.run(_verify_all(server.base, asked))
    finally:
        stop_server(server)
    assert len(answers) == CLIENTS * ROUNDS
    seen: dict[str, Any] = {}
    for certificate, answer in answers:
        if certificate == UNKNOWN:
            assert answer.status_code == 404, answer.text
            assert answer.json()["certificate_status"] == "unknown"
            continue
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["certificate_id"], body["status"]) == (certificate, status_of[certificate])
        # The same certificate answers the same bytes to every client.
        assert seen.setdefault(certificate, answer.content) == answer.content
    assert UNKNOWN in {certificate for certificate, _ in answers}
    assert len(seen) > 10
