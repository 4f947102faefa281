"""The answers kept for committed requests (a CSV import's report, or an answer rebuilt for a
replay), stored beside their Idempotency-Keys a group at a time (ledger.api.idempotency).

Each answer joins a queue and takes turns at the write lock (ledger.store.turns; on SQLite, the
process's one turn to write); whoever holds it stores every queued answer in one transaction. So
concurrent requests share one commit for their answers, as they share one for their events
(ledger.store.group_commit), and a request alone stores at once. An answer already stored is
kept. A failure is logged and costs nothing but the stored copy: the receipt is committed with
the key, so a retry rebuilds the answer from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ledger.db import Database
from ledger.store.turns import Done, TurnQueue, sqlite_turn

log = logging.getLogger("ledger.api")


@dataclass
class _Answer:
    key: str
    actor: str
    status: int
    body: str
    done: Done = field(default_factory=Done)


class AnswerWriter:
    def __init__(self, db: Database, table: str) -> None:
        self.db = db
        self.table = table
        turn = None if db.postgres else sqlite_turn(db.settings.data_dir / "ledger.sqlite")
        self._turns: TurnQueue[_Answer] = TurnQueue(turn)

    def store(self, key: str, actor: str, status: int, body: str) -> None:
        """Store the answer of the command committed under (key, actor) unless one is."""
        answer = _Answer(key, actor, status, body)
        self._turns.run(answer, answer.done, lambda: self._write(self._turns.take()))

    def _write(self, group: list[_Answer]) -> None:
        if not group:
            return
        try:
            with self.db.write() as tx:
                for a in group:
                    tx.execute(
                        f"UPDATE {self.table} SET status = ?, body = ?"
                        " WHERE key = ? AND actor = ? AND status IS NULL",
                        (a.status, a.body, a.key, a.actor),
                    )
        except Exception:  # the receipts are committed: a retry rebuilds the same answers
            log.warning(
                "the answers of %d committed commands were not stored", len(group), exc_info=True
            )
        finally:
            for a in group:
                a.done.set()
