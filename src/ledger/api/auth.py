"""Bearer tokens with roles. Tokens are shown once, stored as SHA-256 hashes, revocable.

Each token has a pseudonymous staff id (`staff-` and 16 random hex digits), which is what the
records name as the actor of a staff member's command: the token's name (often a person's) stays
in this table, which only staff can read (docs/privacy.md). Tutors and committee members act
as their person id, as the rules require. Repeated failed authentication from one client is
rate limited (429 with Retry-After).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.db import Database, Tx
from ledger.domain.actors import Actor, Role
from ledger.integrity.keyring import format_time

TOKEN_PREFIX = "ledger_"  # noqa: S105 - a marker, not a secret
MAX_FAILURES = 10
FAILURE_WINDOW = 60.0
PERSONAL_ROLES = frozenset({Role.TUTOR, Role.COMMITTEE})
"""Roles whose holders act as a person: rules R3, R10 and R11 compare that person with the case."""


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    person_id: str | None
    staff_id: str

    @property
    def actor(self) -> Actor:
        """Tutors and committee members act as their person (rules R3, R10, R11 compare ids);
        other staff as their pseudonymous staff id, never their token's name."""
        return Actor(self.person_id or self.staff_id, self.role)


def new_staff_id() -> str:
    return f"staff-{secrets.token_hex(8)}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {db.table('ledger_tokens')} ("
                " name TEXT PRIMARY KEY, role TEXT NOT NULL, person_id TEXT, hash TEXT NOT NULL"
                " UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT, staff_id TEXT)"
            )
            self._add_staff_ids(tx)

    def _add_staff_ids(self, tx: Tx) -> None:
        """Tokens made before staff ids existed get one; they keep working unchanged."""
        table = self.db.table("ledger_tokens")
        if self.db.postgres:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS staff_id TEXT")
        elif "staff_id" not in {
            row[1] for row in tx.execute(f"PRAGMA table_info({table})").fetchall()
        }:
            tx.execute(f"ALTER TABLE {table} ADD COLUMN staff_id TEXT")
        missing = tx.execute(f"SELECT name FROM {table} WHERE staff_id IS NULL").fetchall()
        for (name,) in missing:
            tx.execute(f"UPDATE {table} SET staff_id = ? WHERE name = ?", (new_staff_id(), name))

    def create(self, name: str, role: Role, person_id: str | None = None) -> str:
        if not name or len(name) > 100:
            raise TokenError("a token name is 1 to 100 characters")
        if role in PERSONAL_ROLES and not person_id:
            raise TokenError(f"a {role} token must name the person it belongs to (--person)")
        if person_id is not None:
            try:
                person_id = str(uuid.UUID(person_id))
            except ValueError:
                raise TokenError(f"--person {person_id!r} is not a person id (a UUID)") from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as tx:
            if tx.execute(
                f"SELECT 1 FROM {self.db.table('ledger_tokens')} WHERE name = ?", (name,)
            ).fetchone():
                raise TokenError(f"a token named {name!r} exists already")
            tx.execute(
                f"INSERT INTO {self.db.table('ledger_tokens')}"
                " (name, role, person_id, hash, created_at, staff_id) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    name,
                    str(role),
                    person_id,
                    _hash(token),
                    format_time(datetime.now(UTC)),
                    new_staff_id(),
                ),
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

    def staff(self) -> Sequence[tuple[str, str, str]]:
        """(staff id, token name, role) of every token: the mapping from the pseudonyms in the
        records to names, for administrators only."""
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT staff_id, name, role FROM {self.db.table('ledger_tokens')}"
                " ORDER BY staff_id"
            ).fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.db.statement() as tx:  # one indexed read: one round trip
            row = tx.execute(
                f"SELECT name, role, person_id, revoked_at, staff_id"
                f" FROM {self.db.table('ledger_tokens')} WHERE hash = ?",
                (_hash(token),),
            ).fetchone()
        if row is None or row[3] is not None:
            return None
        return Principal(name=row[0], role=Role(row[1]), person_id=row[2], staff_id=row[4])


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
