"""Bearer tokens with roles. Tokens are shown once, stored as SHA-256 hashes, revocable.

Repeated failed authentication from one client is rate limited (429 with Retry-After).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.db import Database
from ledger.domain.actors import Actor, Role
from ledger.integrity.keyring import format_time

TOKEN_PREFIX = "ledger_"  # noqa: S105 - a marker, not a secret
MAX_FAILURES = 10
FAILURE_WINDOW = 60.0


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    person_id: str | None

    @property
    def actor(self) -> Actor:
        """Tutors and committee members act as their person (rules R3, R10, R11 compare ids)."""
        return Actor(self.person_id or self.name, self.role)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {db.table('ledger_tokens')} ("
                " name TEXT PRIMARY KEY, role TEXT NOT NULL, person_id TEXT, hash TEXT NOT NULL"
                " UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)"
            )

    def create(self, name: str, role: Role, person_id: str | None = None) -> str:
        if not name or len(name) > 100:
            raise TokenError("a token name is 1 to 100 characters")
        if role is Role.TUTOR and person_id is None:
            raise TokenError(f"a {role} token must name the person it belongs to (--person)")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as tx:
            if tx.execute(
                f"SELECT 1 FROM {self.db.table('ledger_tokens')} WHERE name = ?", (name,)
            ).fetchone():
                raise TokenError(f"a token named {name!r} exists already")
            tx.execute(
                f"INSERT INTO {self.db.table('ledger_tokens')}"
                " (name, role, person_id, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, str(role), person_id, _hash(token), format_time(datetime.now(UTC))),
            )
        return token

    def revoke(self, name: str) -> None:
        with self.db.write() as tx:
            found = tx.execute(
                f"SELECT revoked_at FROM {self.db.table('ledger_tokens')} WHERE name = ?", (name,)
            ).fetchone()
            if found is None:
                raise TokenError(f"no token named {name!r}")
            tx.execute(
                f"UPDATE {self.db.table('ledger_tokens')} SET revoked_at = ? WHERE name = ?",
                (format_time(datetime.now(UTC)), name),
            )

    def list(self) -> list[tuple[str, str, str | None, str, str | None]]:
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT name, role, person_id, created_at, revoked_at"
                f" FROM {self.db.table('ledger_tokens')} ORDER BY name"
            ).fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT name, role, person_id, revoked_at FROM {self.db.table('ledger_tokens')}"
                " WHERE hash = ?",
                (_hash(token),),
            ).fetchone()
        if row is None or row[3] is not None:
            return None
        return Principal(name=row[0], role=Role(row[1]), person_id=row[2])


class FailureLimiter:
    """At most `max_failures` failed authentications per client per FAILURE_WINDOW seconds."""

    def __init__(self, max_failures: int = MAX_FAILURES) -> None:
        self.max_failures = max_failures
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str) -> int:
        now = time.monotonic()
        with self._lock:
            recent = self._failures.get(client)
            while recent and now - recent[0] > FAILURE_WINDOW:
                recent.popleft()
            if recent is not None and len(recent) >= self.max_failures:
                return max(int(FAILURE_WINDOW - (now - recent[0])) + 1, 1)
        return 0

    def fail(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(time.monotonic())
            if len(self._failures) > 100_000:
                self._failures.clear()
