"""A server killed (SIGKILL) between the steps of a command, then restarted: a retry with the
same Idempotency-Key returns the original answer where the events committed, and performs the
command once where they did not. A command's answer is rebuilt from the receipt kept with its
key; a CSV import's report is stored beside it, and a retry after a kill that followed gets the
stored report. Both backends, real server processes, real kills."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.db import Database
from ledger.domain.actors import Role
from ledger.request_keys import TABLE
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.outage_support import live_audit, programme

POINTS = {
    # point: whether the events had committed when the process died
    "events-written": False,
    "events-committed": True,
}
PEOPLE_CSV = (
    b"name,email,organisation,region,country\r\n"
    b"Ida Beispiel,ida.beispiel@example.org,Example Cluster Agency,Bavaria,Germany\r\n"
)


def titled(server: Server, token: str, title: str) -> list[str]:
    """The ids of the programmes called `title`, as the API lists them."""
    found: list[str] = []
    cursor: str | None = None
    with server.client(token) as client:
        while True:
            params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = client.get("/v1/programmes", params=params)
            assert page.status_code == 200, page.text
            body = page.json()
            found += [p["programme_id"] for p in body["items"] if p["title"] == title]
            cursor = body["next_cursor"]
            if not cursor:
                return found


def unanswered_keys(settings: Settings) -> int:
    db = Database(settings)
    try:
        with db.read() as tx:
            (count,) = tx.execute(
                f"SELECT COUNT(*) FROM {db.table(TABLE)} WHERE status IS NULL"
            ).fetchone()
    finally:
        db.close()
    return int(count)


@pytest.mark.parametrize("point", list(POINTS))
def test_a_retry_after_a_crash_returns_the_answer_or_runs_the_command_once(
    settings: Settings, point: str, tmp_path: Path
) -> None:
    title = f"Crash drill at {point}"
    first = start_server(settings, LEDGER_CRASH_AT=point)
    token = first.token("rosa", Role.REGISTRAR)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"crash-{point}"}
    with pytest.raises(httpx.TransportError):  # the process dies before it answers
        httpx.post(f"{first.base}/v1/programmes", json=programme(title), headers=headers)
    assert first.process.wait(timeout=30) == -9  # killed by SIGKILL, not a clean exit
    committed = POINTS[point]
    assert unanswered_keys(settings) == (1 if point == "events-committed" else 0)

    again = start_server(settings)
    try:
        before = titled(again, token, title)
        assert len(before) == (1 if committed else 0)
        retried = httpx.post(f"{again.base}/v1/programmes", json=programme(title), headers=headers)
        assert retried.status_code == 201, retried.text
        assert (retried.headers.get("Idempotent-Replayed") == "true") is committed
        answer = retried.json()
        ids = titled(again, token, title)
        assert ids == [answer["id"]]  # performed exactly once
        assert len(answer["positions"]) == 1
        assert answer["projected"] is True
        once_more = httpx.post(
            f"{again.base}/v1/programmes", json=programme(title), headers=headers
        )
        assert once_more.headers.get("Idempotent-Replayed") == "true"
        assert once_more.json() == answer  # the same answer every time
        assert unanswered_keys(settings) == 0
        other = httpx.post(
            f"{again.base}/v1/programmes", json=programme(title + " (other)"), headers=headers
        )
        assert other.status_code == 422
        assert other.json()["field"] == "Idempotency-Key"
    finally:
        stop_server(again)
    audited = live_audit(settings)
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr[-2000:]


def test_an_import_killed_after_its_report_was_stored_replays_the_report_once(
    settings: Settings,
) -> None:
    first = start_server(settings, LEDGER_CRASH_AT="answer-stored")
    token = first.token("rosa", Role.REGISTRAR)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    keyed = auth | {"Idempotency-Key": "crash-import"}
    with pytest.raises(httpx.TransportError):  # the process dies before it answers
        httpx.post(f"{first.base}/v1/imports/people", content=PEOPLE_CSV, headers=keyed)
    assert first.process.wait(timeout=30) == -9
    assert unanswered_keys(settings) == 0  # the report was stored with the key before the kill

    again = start_server(settings)
    try:
        retried = httpx.post(f"{again.base}/v1/imports/people", content=PEOPLE_CSV, headers=keyed)
        assert retried.status_code == 201, retried.text
        assert retried.headers.get("Idempotent-Replayed") == "true"
        report = retried.json()
        assert (report["kind"], report["rows"], report["appended"]) == ("people", 1, 1)
        assert report["positions"]
        assert report["problems"] == []
        unkeyed = httpx.post(f"{again.base}/v1/imports/people", content=PEOPLE_CSV, headers=auth)
        assert unkeyed.status_code == 201, unkeyed.text
        assert (unkeyed.json()["appended"], unkeyed.json()["skipped"]) == (0, 1)  # once only
    finally:
        stop_server(again)
    audited = live_audit(settings)
    assert audited.returncode == 0, audited.stdout[-2000:] + audited.stderr[-2000:]
