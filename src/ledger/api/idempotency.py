"""Idempotency-Key on every POST: a retried request returns the first result and appends nothing.

The first request with a key claims it (a row with no response yet) before it runs; concurrent
copies wait for that response and return it. A key reused for a different request is refused.
A 5xx response releases the key, so the client may retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.responses import JSONResponse

from ledger.api.problems import Problem, to_response
from ledger.db import Database
from ledger.integrity.keyring import format_time

WAIT = 15.0
log = logging.getLogger("ledger.api")


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("ledger_idempotency")
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT NOT NULL, actor TEXT NOT NULL,"
                " request TEXT NOT NULL, status INTEGER, body TEXT, created_at TEXT NOT NULL,"
                " PRIMARY KEY (key, actor))"
            )

    def run(
        self,
        key: str | None,
        actor: str,
        route: str,
        body: bytes,
        handler: Callable[[], tuple[int, object]],
    ) -> JSONResponse:
        if key is None:
            return _respond(handler)
        if not 1 <= len(key) <= 200:
            raise Problem(
                422,
                "invalid-field",
                "Invalid Idempotency-Key",
                "Idempotency-Key: must be 1 to 200 characters",
                field="Idempotency-Key",
            )
        fingerprint = hashlib.sha256(route.encode() + b"\n" + body).hexdigest()
        if self._claim(key, actor, fingerprint):
            response = _respond(handler)
            if response.status_code >= 500:
                self._release(key, actor)
            else:
                self._complete(key, actor, response)
            return response
        return self._replay(key, actor, fingerprint)

    def _claim(self, key: str, actor: str, fingerprint: str) -> bool:
        with self.db.write() as tx:
            cursor = tx.execute(
                f"INSERT INTO {self.table} (key, actor, request, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key, actor) DO NOTHING",
                (key, actor, fingerprint, format_time(datetime.now(UTC))),
            )
            return bool(getattr(cursor, "rowcount", 0) == 1)

    def _complete(self, key: str, actor: str, response: JSONResponse) -> None:
        with self.db.write() as tx:
            tx.execute(
                f"UPDATE {self.table} SET status = ?, body = ? WHERE key = ? AND actor = ?",
                (response.status_code, bytes(response.body).decode(), key, actor),
            )

    def _release(self, key: str, actor: str) -> None:
        with self.db.write() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE key = ? AND actor = ?", (key, actor))

    def _replay(self, key: str, actor: str, fingerprint: str) -> JSONResponse:
        deadline = time.monotonic() + WAIT
        while True:
            with self.db.read() as tx:
                row = tx.execute(
                    f"SELECT request, status, body FROM {self.table} WHERE key = ? AND actor = ?",
                    (key, actor),
                ).fetchone()
            if row is None:
                raise Problem(
                    409,
                    "conflict",
                    "Retry",
                    "the first request with this Idempotency-Key failed; send it again",
                )
            if row[0] != fingerprint:
                raise Problem(
                    422,
                    "idempotency-key-reused",
                    "Idempotency-Key reused",
                    "this Idempotency-Key was used for a different request",
                    field="Idempotency-Key",
                )
            if row[1] is not None:
                media = "application/problem+json" if row[1] >= 400 else "application/json"
                return JSONResponse(
                    json.loads(row[2]),
                    status_code=row[1],
                    media_type=media,
                    headers={"Idempotent-Replayed": "true"},
                )
            if time.monotonic() > deadline:
                raise Problem(
                    409,
                    "conflict",
                    "In progress",
                    "a request with this Idempotency-Key is still being processed",
                )
            time.sleep(0.02)


def _respond(handler: Callable[[], tuple[int, object]]) -> JSONResponse:
    try:
        status, payload = handler()
    except Exception as exc:  # domain errors become problem details, and are replayed as such
        response = to_response(exc)
        if response.status_code >= 500:
            log.exception("command failed")
        return response
    return JSONResponse(payload, status_code=status)
