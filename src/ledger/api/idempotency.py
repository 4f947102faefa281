"""Idempotency-Key on every POST: a retried request returns the first answer and appends nothing.

A key is bound to a command by the event recorder, in the same transaction as the command's
events (ledger.store.recorders), so after any crash or outage a key is either unused or bound to
exactly one committed command. There is no claim and no waiting:

- Commands running at once share transactions: their events and keys one
  (ledger.store.group_commit), the kept answers another (ledger.api.answer_writer).
- A retry of a committed command returns its answer rebuilt from the receipt kept with the
  key (the command's id and its events' log positions): a command's answer says no more than
  that, so it is not stored as well, and costs its request no write of its own. A handler whose
  answer says more (a CSV import's report) is `kept`: its answer is stored beside the key just
  after the commit, and when the process died in between, a retry gets the rebuilt receipt.
- Two attempts at once both run; the one that commits first binds the key, the other's events
  roll back with its key row and it answers as the first did.
- A refusal (4xx) or a command that changed nothing is stored with the key and replayed, except
  a conflict with a concurrent change or with data keys not restored yet, which a retry may
  well get past. A 5xx is never stored:
  nothing was committed under the key, so a retry runs the command.
- A key reused for a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.responses import JSONResponse

from ledger import faults, request_keys
from ledger.api.answer_writer import AnswerWriter
from ledger.api.problems import BASE, Problem, to_response
from ledger.db import Database
from ledger.request_keys import KeyBinding
from ledger.views.positions import log_positions

log = logging.getLogger("ledger.api")
Handler = Callable[[], tuple[int, object]]
Rebuild = Callable[[list[int]], tuple[list[int], bool]]
"""From a receipt's notification ids to their log positions and whether they are projected."""


@dataclass(frozen=True)
class KeyRow:
    fingerprint: str
    receipt: str
    notifications: list[int]
    status: int | None
    body: str | None


class IdempotencyStore:
    def __init__(self, db: Database, rebuild: Rebuild | None = None) -> None:
        self.db = db
        self.table = db.table(request_keys.TABLE)
        self.answers = AnswerWriter(db, self.table)
        self.rebuild = rebuild or (lambda ids: (log_positions(db, ids), False))
        _forget_old_claims(db)

    def run(
        self,
        key: str | None,
        actor: str,
        route: str,
        body: bytes,
        handler: Handler,
        *,
        kept: bool = True,
    ) -> JSONResponse:
        """Run `handler` once per (key, actor). `kept`: store the answer of a committed
        command; without it, a retry gets the answer rebuilt from the receipt, which must then
        be all the answer says (id, positions, projected)."""
        retry_after = self.db.settings.retry_after_s
        if key is None:
            return _respond(handler, retry_after)
        if not 1 <= len(key) <= 200:
            raise Problem(
                422,
                "invalid-field",
                "Invalid Idempotency-Key",
                "Idempotency-Key: must be 1 to 200 characters",
                field="Idempotency-Key",
            )
        fingerprint = hashlib.sha256(route.encode() + b"\n" + body).hexdigest()
        found = self._find(key, actor)
        if found is not None:
            return self._replay(found, fingerprint, key, actor)
        binding = KeyBinding(key, actor, fingerprint)
        with request_keys.bound(binding):
            response = _respond(handler, retry_after)
        if binding.written:
            faults.reach("events-committed")
            if kept and response.status_code < 500:  # else a retry rebuilds it from the receipt
                self._store_answer(key, actor, response)
                faults.reach("answer-stored")
            return response
        found = self._find(key, actor)
        if found is not None:  # a concurrent attempt committed first: answer as it did
            return self._replay(found, fingerprint, key, actor)
        kept = response.status_code < 500 and not _passing_refusal(response)
        if kept and not self._store_unbound(key, actor, fingerprint, response):
            found = self._find(key, actor)
            if found is not None:  # bound meanwhile by a concurrent attempt
                return self._replay(found, fingerprint, key, actor)
        return response

    # -- rows --------------------------------------------------------------------------------

    def _find(self, key: str, actor: str) -> KeyRow | None:
        with self.db.statement() as tx:  # one indexed read: one round trip
            row = tx.execute(
                f"SELECT request, receipt, notifications, status, body FROM {self.table}"
                " WHERE key = ? AND actor = ?",
                (key, actor),
            ).fetchone()
        if row is None:
            return None
        return KeyRow(row[0], row[1], [int(n) for n in json.loads(row[2])], row[3], row[4])

    def _store_answer(self, key: str, actor: str, response: JSONResponse) -> None:
        """The answer of a committed command, beside its key (kept if already stored), in one
        transaction with those of concurrent requests (ledger.api.answer_writer)."""
        self.answers.store(key, actor, response.status_code, bytes(response.body).decode())

    def _store_unbound(
        self, key: str, actor: str, fingerprint: str, response: JSONResponse
    ) -> bool:
        """Keep the answer of a command that committed nothing (a refusal, or no change).
        False when the key was bound meanwhile."""
        with self.db.write() as tx:
            cursor = tx.execute(
                f"INSERT INTO {self.table} (key, actor, request, status, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, actor) DO NOTHING",
                (
                    key,
                    actor,
                    fingerprint,
                    response.status_code,
                    bytes(response.body).decode(),
                    datetime.now(UTC).isoformat(),
                ),
            )
            return bool(getattr(cursor, "rowcount", 0) == 1)

    # -- answers -----------------------------------------------------------------------------

    def _replay(self, row: KeyRow, fingerprint: str, key: str, actor: str) -> JSONResponse:
        if row.fingerprint != fingerprint:
            raise Problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was used for a different request",
                field="Idempotency-Key",
            )
        if row.status is not None and row.body is not None:
            status, payload = row.status, json.loads(row.body)
        else:
            status, payload = 201, self._rebuilt(row)
            self._store_answer(key, actor, JSONResponse(payload, status_code=status))
        media = "application/problem+json" if status >= 400 else "application/json"
        return JSONResponse(
            payload,
            status_code=status,
            media_type=media,
            headers={"Idempotent-Replayed": "true"},
        )

    def _rebuilt(self, row: KeyRow) -> dict[str, object]:
        """The answer of a command committed under the key whose answer was never stored
        (its process died in between): its id, and its events' positions, read now."""
        positions, projected = self.rebuild(row.notifications)
        return {"id": row.receipt, "positions": positions, "projected": projected}


PASSING = {BASE + "conflict", BASE + "personal-data-unavailable"}


def _passing_refusal(response: JSONResponse) -> bool:
    """A refusal that the same request may well get past later, so it is not stored and a
    retry with the same key runs the command again: another change to the same record
    committed first, or the person's data key is not restored here yet."""
    if response.status_code != 409:
        return False
    try:
        kind = json.loads(bytes(response.body)).get("type", "")
    except ValueError:
        return False
    return kind in PASSING


def _forget_old_claims(db: Database) -> None:
    """Earlier versions kept keys in `ledger_idempotency`, claimed before the command ran: carry
    over the answered ones; an unanswered claim bound nothing and is dropped."""
    old, new = db.table("ledger_idempotency"), db.table(request_keys.TABLE)
    with db.ddl() as tx:
        if db.postgres:
            (exists,) = tx.execute("SELECT to_regclass(?) IS NOT NULL", (old,)).fetchone()
        else:
            exists = tx.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                ("ledger_idempotency",),
            ).fetchone()
        if not exists:
            return
        tx.execute(
            f"INSERT INTO {new} (key, actor, request, status, body, created_at)"
            f" SELECT key, actor, request, status, body, created_at FROM {old}"
            " WHERE status IS NOT NULL ON CONFLICT (key, actor) DO NOTHING"
        )
        tx.execute(f"DROP TABLE {old}")


def _respond(handler: Handler, retry_after: int) -> JSONResponse:
    try:
        status, payload = handler()
    except Exception as exc:  # domain errors become problem details, and are replayed as such
        response = to_response(exc, retry_after)
        if response.status_code >= 500:
            log.exception("command failed")
        return response
    return JSONResponse(payload, status_code=status)
