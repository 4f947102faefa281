"""A command's answer names its events by log position, counted from 0 as /log/entries counts
them, on both backends, also when the store's notification ids have gaps."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import psycopg

from ledger.config import Settings, parse_database_url
from ledger.domain.actors import Role
from tests.e2e.conftest import Server


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def entry_at(auditor: httpx.Client, position: int) -> dict[str, Any]:
    """The record at a log position, once the log has sequenced it."""
    for _ in range(100):
        found = auditor.get("/log/entries", params={"start": position, "end": position + 1})
        entries = found.json()["entries"]
        if entries:
            assert entries[0]["index"] == position
            record: dict[str, Any] = json.loads(base64.b64decode(entries[0]["leaf_data"]))
            return record
        time.sleep(0.1)
    raise AssertionError(f"no log entry at position {position}")


def burn_notification_ids(settings: Settings, count: int) -> None:
    """Leave a gap in PostgreSQL's notification ids, as a rolled-back insert does."""
    assert settings.database_url is not None
    target = parse_database_url(settings.database_url)
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        table = f"{target.schema}.ledger_events"
        for _ in range(count):
            conn.execute("SELECT nextval(pg_get_serial_sequence(%s, 'notification_id'))", (table,))


def test_command_answers_give_the_log_positions_of_their_events(server: Server) -> None:
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    auditor = server.client(server.token("aud", Role.AUDITOR))
    answers = []
    for n in range(3):
        if server.settings.database_url is not None:
            burn_notification_ids(server.settings, 3)
        programme = {
            "title": f"Positions programme {n}",
            "starts_on": "2024-01-08",
            "ends_on": "2024-06-28",
            "material_version": "2023.1",
        }
        answers.append(post(registrar, "/v1/programmes", programme))
    answers.append(post(registrar, "/v1/materials", {"version": "2023.1", "title": "Handbook"}))
    positions = [p for answer in answers for p in answer["positions"]]
    assert positions == list(range(positions[0], positions[0] + len(positions)))  # no gap
    for answer in answers[:3]:
        (position,) = answer["positions"]
        record = entry_at(auditor, position)
        assert (record["stream"], record["version"], record["type"]) == (
            answer["id"],
            1,
            "programme.opened",
        )
    material = [entry_at(auditor, p)["type"] for p in answers[3]["positions"]]
    assert material[-1] == "material.version_published"
    assert entry_at(auditor, positions[0] - 1)["type"] != "programme.opened"
