"""Where each certificate sits in the status lists, and what the lists say.

Each certificate has one entry (a list id and an index) in two lists of the same id:
- `suspension` (one bit an entry): 1 while the certificate is suspended or revoked. The
  credential's single `credentialStatus` (all the Open Badges 3.0 schema allows) points here, so
  every standard Bitstring Status List verifier refuses both; the bit clears on reinstatement,
  which a `revocation` list may never do.
- `message` (`statusSize` 2): the precise state, 0x0 valid, 0x1 suspended, 0x2 revoked, for
  whoever wants it (our verification page, the offline bundle).
Expiry needs no bit: it is the credential's `validUntil`. Indices are drawn at random in lists
of 131,072 entries, so neighbours say nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ledger.credentials.status_list import MIN_BITS, Bitstring, StatusListError
from ledger.db import Database

SUSPENSION = "suspension"
MESSAGE = "message"
PURPOSES = (SUSPENSION, MESSAGE)
STATUS_SIZE = 2  # bits an entry in the message list
ENTRIES = MIN_BITS  # entries per list: the suspension list has ENTRIES bits, the message list
# ENTRIES * STATUS_SIZE
MESSAGES = {"valid": 0, "suspended": 1, "revoked": 2}
STATUS_MESSAGES = [
    {"status": "0x0", "message": "valid"},
    {"status": "0x1", "message": "suspended"},
    {"status": "0x2", "message": "revoked"},
]


@dataclass(frozen=True)
class StatusEntry:
    list_id: int
    index: int


def set_status(bits: Bitstring, index: int, value: int) -> None:
    for offset in range(STATUS_SIZE):
        shift = STATUS_SIZE - 1 - offset
        bits.set(index * STATUS_SIZE + offset, bool((value >> shift) & 1))


def get_status(bits: Bitstring, index: int) -> int:
    value = 0
    for offset in range(STATUS_SIZE):
        value = (value << 1) | int(bits.get(index * STATUS_SIZE + offset))
    return value


def new_list(purpose: str = MESSAGE) -> Bitstring:
    """An empty list of that purpose: one bit an entry for `suspension`, two for `message`."""
    return Bitstring(ENTRIES * (STATUS_SIZE if purpose == MESSAGE else 1))


def message_of(status: str) -> int:
    """The message list's value for a status (`expired` and `unknown` are 0: not a decision)."""
    return MESSAGES.get(status, 0)


def suspended_bit(status: str) -> bool:
    """The suspension list's bit: set while suspended or revoked (a revoked one never clears)."""
    return status in ("suspended", "revoked")


class StatusEntries:
    """The random index of each certificate, allocated once and kept."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("ledger_status_entries")
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (certificate_id TEXT PRIMARY KEY,"
                " list_id INTEGER NOT NULL, idx INTEGER NOT NULL, UNIQUE (list_id, idx))"
            )

    def entry(self, certificate_id: str) -> StatusEntry:
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT list_id, idx FROM {self.table} WHERE certificate_id = ?", (certificate_id,)
            ).fetchone()
            if row is not None:
                return StatusEntry(int(row[0]), int(row[1]))
            list_id = 1
            while True:
                used = int(
                    tx.execute(
                        f"SELECT count(*) FROM {self.table} WHERE list_id = ?", (list_id,)
                    ).fetchone()[0]
                )
                if used < ENTRIES // 2:  # keep lists sparse enough to draw quickly
                    break
                list_id += 1
            while True:
                index = secrets.randbelow(ENTRIES)
                if (
                    tx.execute(
                        f"SELECT 1 FROM {self.table} WHERE list_id = ? AND idx = ?",
                        (list_id, index),
                    ).fetchone()
                    is None
                ):
                    break
            tx.execute(
                f"INSERT INTO {self.table} (certificate_id, list_id, idx) VALUES (?, ?, ?)",
                (certificate_id, list_id, index),
            )
            return StatusEntry(list_id, index)

    def members(self, list_id: int) -> list[tuple[str, int]]:
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT certificate_id, idx FROM {self.table} WHERE list_id = ?", (list_id,)
            ).fetchall()
        if not rows and list_id != 1:
            raise StatusListError(f"no status list {list_id}")
        return [(str(r[0]), int(r[1])) for r in rows]
