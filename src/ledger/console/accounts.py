"""Staff accounts of the console: who may sign in, in which role, as which person.

An account has a username (unique whatever its case), a role, the person a tutor or committee
member acts as (as API tokens require, `ledger.api.auth`), a pseudonymous staff id (what the
records name as the actor of other staff), an argon2id password hash (never the password), an
optional TOTP secret (stored only wrapped, `ledger.console.totp`), a disabled flag, and its own
counters of failed sign-ins (`ledger.console.lockout`)."""

from __future__ import annotations

import functools
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ledger.api.auth import PERSONAL_ROLES, new_staff_id
from ledger.console.lockout import Failures
from ledger.console.totp import SecretBox
from ledger.db import Database, Tx
from ledger.domain.actors import Role
from ledger.integrity.keyring import format_time, parse_time

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 reads all of it; a megabyte "password" is a denial of service
MAX_USERNAME = 100
HASHER = PasswordHasher(type=Type.ID)


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the username is unknown, so that an unknown name takes as long as
    a wrong password and the answer's timing does not reveal which usernames exist. Made at the
    first sign-in, not at import: hashing takes argon2's 64 MiB, which a server that only
    answers verifications should never hold."""
    return HASHER.hash("not a password of anyone's")


Now = Callable[[], datetime]
_PREPARED: weakref.WeakSet[Database] = weakref.WeakSet()  # databases whose table exists


def _system_now() -> datetime:
    return datetime.now(UTC)


class AccountError(ValueError):
    """A refused account change; `field` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Account:
    staff_id: str
    username: str
    role: Role
    person_id: str | None
    created_at: datetime
    disabled: bool
    has_totp: bool


def username_key(username: str) -> str:
    """What makes two usernames the same: case and surrounding space do not count."""
    return username.strip().casefold()


def check_username(username: str) -> str:
    name = username.strip()
    if not name:
        raise AccountError("username", "Enter a username")
    if len(name) > MAX_USERNAME or any(c.isspace() or not c.isprintable() for c in name):
        raise AccountError(
            "username", f"A username is 1 to {MAX_USERNAME} characters, without spaces"
        )
    return name


def check_person(role: Role, person_id: str | None) -> str | None:
    """Tutors and committee members act as their person; others need none."""
    if not person_id:
        if role in PERSONAL_ROLES:
            raise AccountError("person_id", f"A {role} account must name the person it belongs to")
        return None
    try:
        return str(uuid.UUID(person_id.strip()))
    except ValueError:
        raise AccountError("person_id", "A person id is a UUID, as on the person's page") from None


def check_password(password: str, username: str) -> None:
    """At least 12 characters, and not the username (NIST SP 800-63B: length, no composition
    rules). The password itself never appears in the message."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"Enter a password of at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password", f"A password is at most {MAX_PASSWORD} characters")
    if username_key(password) == username_key(username):
        raise AccountError("password", "The password must not be the username")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


class Accounts:
    """The accounts table, on either backend."""

    def __init__(self, db: Database, now: Now = _system_now) -> None:
        self.db = db
        self.now = now
        self.table = db.table("console_accounts")
        self._box: SecretBox | None = None
        if db in _PREPARED:
            return
        with db.ddl() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " staff_id TEXT PRIMARY KEY,"
                " username TEXT NOT NULL,"
                " username_key TEXT NOT NULL UNIQUE,"
                " role TEXT NOT NULL,"
                " person_id TEXT,"
                " password_hash TEXT NOT NULL,"
                " totp_secret TEXT,"
                " totp_step BIGINT,"
                " created_at TEXT NOT NULL,"
                " disabled_at TEXT,"
                " failures INTEGER NOT NULL DEFAULT 0,"
                " failures_since TEXT,"
                " locked_until TEXT,"
                " lockouts INTEGER NOT NULL DEFAULT 0)"
            )
        _PREPARED.add(db)

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.of(self.db.settings)
        return self._box

    # --- making and changing accounts -------------------------------------------------------

    def create(
        self,
        username: str,
        role: Role,
        person_id: str | None,
        password: str,
        *,
        totp_secret: str | None = None,
    ) -> str:
        """A new account; answers its staff id."""
        with self.db.write() as tx:
            return self.create_in(tx, username, role, person_id, password, totp_secret)

    def create_in(
        self,
        tx: Tx,
        username: str,
        role: Role,
        person_id: str | None,
        password: str,
        totp_secret: str | None = None,
    ) -> str:
        """`create` inside the caller's transaction (an invitation is used in the same one)."""
        name = check_username(username)
        person = check_person(role, person_id)
        check_password(password, name)
        if self.taken_in(tx, name):
            raise AccountError("username", "That username is taken; choose another")
        staff_id = new_staff_id()
        wrapped = None if totp_secret is None else self.box.wrap(totp_secret, staff_id)
        tx.execute(
            f"INSERT INTO {self.table} (staff_id, username, username_key, role, person_id,"
            " password_hash, totp_secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                staff_id,
                name,
                username_key(name),
                str(role),
                person,
                hash_password(password),
                wrapped,
                format_time(self.now()),
            ),
        )
        return staff_id

    def taken_in(self, tx: Tx, username: str) -> bool:
        found = tx.execute(
            f"SELECT 1 FROM {self.table} WHERE username_key = ?", (username_key(username),)
        ).fetchone()
        return found is not None

    def taken(self, username: str) -> bool:
        with self.db.read() as tx:
            return self.taken_in(tx, username)

    def disable(self, username: str) -> Account:
        with self.db.write() as tx:
            found = self._row(tx, "username_key = ?", username_key(username))
            if found is None:
                raise AccountError("username", f"No account is named {username!r}")
            if found[5] is None:
                tx.execute(
                    f"UPDATE {self.table} SET disabled_at = ? WHERE staff_id = ?",
                    (format_time(self.now()), found[0]),
                )
        account = self.by_staff_id(found[0])
        assert account is not None
        return account

    # --- reading ----------------------------------------------------------------------------

    _COLUMNS = "staff_id, username, role, person_id, created_at, disabled_at, totp_secret"

    def _row(self, tx: Tx, where: str, value: str) -> tuple[str, ...] | None:
        row = tx.execute(
            f"SELECT {self._COLUMNS} FROM {self.table} WHERE {where}", (value,)
        ).fetchone()
        return None if row is None else tuple(row)

    @staticmethod
    def _account(row: tuple[str, ...]) -> Account:
        return Account(
            staff_id=row[0],
            username=row[1],
            role=Role(row[2]),
            person_id=row[3],
            created_at=parse_time(row[4]),
            disabled=row[5] is not None,
            has_totp=row[6] is not None,
        )

    def by_staff_id(self, staff_id: str) -> Account | None:
        with self.db.read() as tx:
            row = self._row(tx, "staff_id = ?", staff_id)
        return None if row is None else self._account(row)

    def by_username(self, username: str) -> Account | None:
        with self.db.read() as tx:
            row = self._row(tx, "username_key = ?", username_key(username))
        return None if row is None else self._account(row)

    def all(self) -> list[Account]:
        with self.db.read() as tx:
            rows = tx.execute(
                f"SELECT {self._COLUMNS} FROM {self.table} ORDER BY username_key"
            ).fetchall()
        return [self._account(tuple(row)) for row in rows]

    def staff(self) -> list[tuple[str, str, str]]:
        """(staff id, username, role) of every account: the mapping from the pseudonyms in
        the records to names, for administrators only (as `TokenStore.staff`)."""
        return [(a.staff_id, a.username, str(a.role)) for a in self.all()]

    # --- signing in -------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> Account | None:
        """The account if `password` is its password, it is enabled and not locked out;
        otherwise None, after recording the failure on that account (if it exists). The same
        work is done for an unknown username, so the time taken reveals nothing either."""
        now = self.now()
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT staff_id, password_hash, disabled_at, failures, failures_since,"
                f" locked_until, lockouts FROM {self.table} WHERE username_key = ?",
                (username_key(username),),
            ).fetchone()
        if row is None or len(password) > MAX_PASSWORD:
            _verify(_dummy_hash(), password[:MAX_PASSWORD])
            return None
        staff_id, stored = row[0], row[1]
        failures = _failures(row[3:7])
        right = _verify(stored, password)
        if failures.locked(now) or row[2] is not None:
            return None
        if not right:
            self.record_failure(staff_id)
            return None
        if HASHER.check_needs_rehash(stored):
            with self.db.write() as tx:
                tx.execute(
                    f"UPDATE {self.table} SET password_hash = ? WHERE staff_id = ?",
                    (hash_password(password), staff_id),
                )
        return self.by_staff_id(staff_id)

    def locked(self, staff_id: str) -> bool:
        with self.db.read() as tx:
            row = tx.execute(
                f"SELECT failures, failures_since, locked_until, lockouts FROM {self.table}"
                " WHERE staff_id = ?",
                (staff_id,),
            ).fetchone()
        return row is not None and _failures(tuple(row)).locked(self.now())

    def record_failure(self, staff_id: str) -> None:
        """One more failed sign-in (wrong password or wrong code) on this account only."""
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT failures, failures_since, locked_until, lockouts FROM {self.table}"
                " WHERE staff_id = ?",
                (staff_id,),
            ).fetchone()
            if row is None:
                return
            after = _failures(tuple(row)).after_failure(self.now())
            tx.execute(
                f"UPDATE {self.table} SET failures = ?, failures_since = ?, locked_until = ?,"
                " lockouts = ? WHERE staff_id = ?",
                (
                    after.count,
                    None if after.since is None else format_time(after.since),
                    None if after.locked_until is None else format_time(after.locked_until),
                    after.lockouts,
                    staff_id,
                ),
            )

    def record_success(self, staff_id: str) -> None:
        with self.db.write() as tx:
            tx.execute(
                f"UPDATE {self.table} SET failures = 0, failures_since = NULL,"
                " locked_until = NULL, lockouts = 0 WHERE staff_id = ?",
                (staff_id,),
            )

    def check_code(self, staff_id: str, code: str) -> bool:
        """Whether `code` is the account's current TOTP code, not used before; accepting it
        uses it up. A wrong code counts as a failed sign-in on the account."""
        from ledger.console.totp import matching_step

        now = self.now()
        with self.db.write() as tx:
            row = tx.execute(
                f"SELECT totp_secret, totp_step, failures, failures_since, locked_until,"
                f" lockouts, disabled_at FROM {self.table} WHERE staff_id = ?",
                (staff_id,),
            ).fetchone()
            if row is None or row[0] is None or row[6] is not None:
                return False
            if _failures(tuple(row[2:6])).locked(now):
                return False
            secret = self.box.unwrap(row[0], staff_id)
            step = matching_step(secret, code, now, row[1])
            if step is not None:
                tx.execute(
                    f"UPDATE {self.table} SET totp_step = ? WHERE staff_id = ?", (step, staff_id)
                )
        if step is None:
            self.record_failure(staff_id)
            return False
        return True


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _failures(row: tuple[object, ...]) -> Failures:
    count, since, until, lockouts = row
    return Failures(
        count=int(str(count or 0)),
        since=None if since is None else parse_time(str(since)),
        locked_until=None if until is None else parse_time(str(until)),
        lockouts=int(str(lockouts or 0)),
    )
