"""One-time invitations to the console: a random token in a link, for one role (and the
person a tutor or committee member acts as), valid for a few days, used once.

Only the token's SHA-256 is stored, so the table alone opens nothing. Accepting it creates the
account (password, optional second factor) and uses the invitation up in one transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.console.accounts import (
    AccountError,
    Accounts,
    Now,
    _system_now,
    check_person,
    check_username,
)
from ledger.db import Database
from ledger.domain.actors import Role
from ledger.integrity.keyring import format_time, parse_time

VALID_FOR = timedelta(days=7)
TOKEN_BYTES = 32


def invitation_path(token: str) -> str:
    return f"/console/invitation/{token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    role: Role
    person_id: str | None
    username: str | None  # suggested by whoever invited; the invited person may change it
    expires_at: datetime


class InvitationError(ValueError):
    """The link does not open: unknown, used or expired (one message for all three)."""


class Invitations:
    def __init__(self, db: Database, accounts: Accounts, now: Now = _system_now) -> None:
        self.db = db
        self.accounts = accounts
        self.now = now
        self.table = db.table("console_invitations")
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " token_hash TEXT PRIMARY KEY,"
                " role TEXT NOT NULL,"
                " person_id TEXT,"
                " username TEXT,"
                " invited_by TEXT NOT NULL,"
                " created_at TEXT NOT NULL,"
                " expires_at TEXT NOT NULL,"
                " used_at TEXT,"
                " staff_id TEXT)"
            )

    def invite(
        self,
        role: Role,
        person_id: str | None,
        username: str | None = None,
        *,
        invited_by: str,
        valid_for: timedelta = VALID_FOR,
    ) -> str:
        """A new invitation; answers its token (shown once, never stored)."""
        person = check_person(role, person_id)
        name = check_username(username) if username else None
        if name is not None and self.accounts.taken(name):
            raise AccountError("username", "That username is taken; choose another")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self.now()
        with self.db.write() as tx:
            tx.execute(
                f"INSERT INTO {self.table} (token_hash, role, person_id, username, invited_by,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _digest(token),
                    str(role),
                    person,
                    name,
                    invited_by,
                    format_time(now),
                    format_time(now + valid_for),
                ),
            )
        return token

    def find(self, token: str) -> Invitation:
        """The open invitation of `token`, or InvitationError."""
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT role, person_id, username, expires_at, used_at FROM {self.table}"
                " WHERE token_hash = ?",
                (_digest(token),),
            ).fetchone()
        return self._open(row)

    def _open(self, row: Sequence[str | None] | None) -> Invitation:
        if row is None:
            raise InvitationError("This invitation link is not valid")
        role, person_id, username, expires_at, used_at = tuple(row)
        expires = parse_time(str(expires_at))
        if used_at is not None:
            raise InvitationError("This invitation link has been used already")
        if self.now() >= expires:
            raise InvitationError("This invitation link has expired; ask for a new one")
        return Invitation(Role(str(role)), person_id, username, expires)

    def accept(
        self, token: str, username: str, password: str, totp_secret: str | None = None
    ) -> str:
        """Create the account the invitation is for and use the invitation up; answers the
        new staff id. Two people racing with the same link: one wins, the other is told it
        has been used."""
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT role, person_id, username, expires_at, used_at FROM {self.table}"
                " WHERE token_hash = ?",
                (_digest(token),),
            ).fetchone()
            invitation = self._open(row)
            staff_id = self.accounts.create_in(
                tx, username, invitation.role, invitation.person_id, password, totp_secret
            )
            used = tx.execute(
                f"UPDATE {self.table} SET used_at = ?, staff_id = ?"
                " WHERE token_hash = ? AND used_at IS NULL",
                (format_time(self.now()), staff_id, _digest(token)),
            )
            if used.rowcount != 1:
                raise InvitationError("This invitation link has been used already")
        return staff_id
