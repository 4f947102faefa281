"""Server-side console sessions: a random id in the browser's cookie, only its SHA-256 here.

A session belongs to one account; it ends when signed out, after the idle timeout (no request
for `idle`), after its absolute lifetime whatever the activity, or when the account is disabled.
A session waiting for the second factor (`stage` "code") opens no page and lasts minutes.
Messages for the next page ("flashes") may name people, so they are stored encrypted under a
key derived from the session id, which only the browser holds."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.console.accounts import Now, _system_now
from ledger.db import Database
from ledger.integrity.keyring import format_time, parse_time

LIFETIME = timedelta(hours=12)
CODE_STAGE_LIFETIME = timedelta(minutes=5)
SIGNED_IN = "signed-in"
AWAITING_CODE = "code"
TOUCH_EVERY = timedelta(seconds=10)  # last_seen is written at most this often


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _flash_cipher(session_id: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ledger console flash v1"
    ).derive(session_id.encode())
    return AESGCM(key)


@dataclass(frozen=True)
class Session:
    id: str  # the cookie's value: never stored, never logged
    staff_id: str
    stage: str
    created_at: datetime
    last_seen: datetime


class Sessions:
    def __init__(
        self, db: Database, idle: timedelta, lifetime: timedelta = LIFETIME, now: Now = _system_now
    ) -> None:
        self.db = db
        self.idle = idle
        self.lifetime = lifetime
        self.now = now
        self.table = db.table("console_sessions")
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " id_hash TEXT PRIMARY KEY,"
                " staff_id TEXT NOT NULL,"
                " stage TEXT NOT NULL,"
                " created_at TEXT NOT NULL,"
                " last_seen TEXT NOT NULL,"
                " flashes TEXT)"
            )

    def start(self, staff_id: str, stage: str = SIGNED_IN) -> Session:
        """A new session (a new id every time: signing in never reuses an id the browser
        had before, so a planted id gains nothing)."""
        session_id = secrets.token_urlsafe(32)
        now = self.now()
        with self.db.write() as tx:
            tx.execute(
                f"INSERT INTO {self.table} (id_hash, staff_id, stage, created_at, last_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), staff_id, stage, format_time(now), format_time(now)),
            )
        return Session(session_id, staff_id, stage, now, now)

    def find(self, session_id: str, stage: str = SIGNED_IN) -> Session | None:
        """The live session of `session_id` at `stage`, its idle clock restarted; None (and
        the session deleted) when it has timed out."""
        if not session_id or len(session_id) > 100:
            return None
        now = self.now()
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT staff_id, stage, created_at, last_seen FROM {self.table}"
                " WHERE id_hash = ?",
                (_digest(session_id),),
            ).fetchone()
        if row is None or row[1] != stage:
            return None
        created, seen = parse_time(row[2]), parse_time(row[3])
        lifetime = self.lifetime if stage == SIGNED_IN else CODE_STAGE_LIFETIME
        if now - seen > self.idle or now - created > lifetime:
            self.end(session_id)
            return None
        if now - seen >= TOUCH_EVERY:
            with self.db.write() as tx:
                tx.execute(
                    f"UPDATE {self.table} SET last_seen = ? WHERE id_hash = ?",
                    (format_time(now), _digest(session_id)),
                )
            seen = now
        return Session(session_id, row[0], row[1], created, seen)

    def end(self, session_id: str) -> None:
        with self.db.write() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE id_hash = ?", (_digest(session_id),))

    def end_all(self, staff_id: str) -> None:
        """Every session of an account (it was disabled)."""
        with self.db.write() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE staff_id = ?", (staff_id,))

    def sweep(self) -> int:
        """Delete sessions past their lifetime or idle timeout; answers how many."""
        now = self.now()
        with self.db.read() as tx:
            rows = tx.execute(f"SELECT id_hash, created_at, last_seen FROM {self.table}").fetchall()
        dead = [
            (row[0],)
            for row in rows
            if now - parse_time(row[2]) > self.idle or now - parse_time(row[1]) > self.lifetime
        ]
        with self.db.write() as tx:
            tx.executemany(f"DELETE FROM {self.table} WHERE id_hash = ?", dead)
        return len(dead)

    # --- messages for the next page -----------------------------------------------------------

    def add_flash(self, session_id: str, message: str) -> None:
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT flashes FROM {self.table} WHERE id_hash = ?", (_digest(session_id),)
            ).fetchone()
            if row is None:
                return
            messages = [*_open(session_id, row[0]), message]
            tx.execute(
                f"UPDATE {self.table} SET flashes = ? WHERE id_hash = ?",
                (_seal(session_id, messages), _digest(session_id)),
            )

    def take_flashes(self, session_id: str) -> list[str]:
        """The messages waiting for this session's next page; they are shown once."""
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT flashes FROM {self.table} WHERE id_hash = ?", (_digest(session_id),)
            ).fetchone()
            if row is None or row[0] is None:
                return []
            tx.execute(
                f"UPDATE {self.table} SET flashes = NULL WHERE id_hash = ?",
                (_digest(session_id),),
            )
        return _open(session_id, row[0])


def _seal(session_id: str, messages: list[str]) -> str:
    nonce = os.urandom(12)
    sealed = _flash_cipher(session_id).encrypt(nonce, json.dumps(messages).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def _open(session_id: str, stored: str | None) -> list[str]:
    if stored is None:
        return []
    data = base64.b64decode(stored)
    found: list[str] = json.loads(_flash_cipher(session_id).decrypt(data[:12], data[12:], None))
    return found
