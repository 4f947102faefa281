"""`ledger demo-admin`: the demo's admin account, so that `make run` prints a console sign-in
that works on first try.

The account `demo-admin` is made on the first run, with a generated password kept in a file
readable by its owner only (mode 0600) in the data folder; later runs print the same password.
It is made only beside the demo history: a ledger holding other records gets its accounts from
`ledger staff invite`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from ledger.config import Settings

USERNAME = "demo-admin"
KEPT_IN = "demo-admin-password"  # the file name, in the data folder


def password_path(settings: Settings) -> Path:
    return settings.data_dir / KEPT_IN


def kept_password(path: Path) -> str | None:
    """The password kept by an earlier run, if any."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def keep_password(path: Path, password: str) -> None:
    """Write the password to a new file that only its owner may read (never widened later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    os.chmod(path, 0o600)


def _cmd_demo_admin(args: argparse.Namespace) -> int:
    from ledger.console.accounts import Accounts
    from ledger.db import Database
    from ledger.demo import is_loaded
    from ledger.domain.actors import Role
    from ledger.integrity.keyring import KeyDirectory
    from ledger.runtime import open_runtime

    settings = Settings.from_env(os.environ)
    if not KeyDirectory(settings.keys_dir).exists():
        print(f"error: no key ring in {settings.keys_dir}; run `ledger keys init`", file=sys.stderr)
        return 1
    runtime = open_runtime(settings)
    try:
        demo = is_loaded(runtime.service)
    finally:
        runtime.close()
    if not demo:
        print(
            "error: the demo history is not loaded (`ledger demo`); the demo admin exists only"
            " beside it. Make staff accounts with `ledger staff invite`.",
            file=sys.stderr,
        )
        return 1
    path = password_path(settings)
    db = Database(settings)
    try:
        accounts = Accounts(db)
        password = kept_password(path)
        if accounts.by_username(USERNAME) is None:
            password = password or secrets.token_urlsafe(15)
            keep_password(path, password)
            accounts.create(USERNAME, Role.ADMIN, None, password)
    finally:
        db.close()
    console = f"{settings.public_url}/console"
    print(f"staff console: {console}")
    if password is None:
        print(
            f"  the {USERNAME} account exists but its password is no longer kept in {path};"
            " make another admin with `ledger staff invite --role admin`"
        )
    else:
        print(f"  demo sign-in: username {USERNAME}, password {password}  (kept in {path})")
    sys.stdout.flush()
    return 0


def register(commands: Any) -> None:
    """Add `demo-admin` to the `ledger` command's subparsers."""
    parser = commands.add_parser(
        "demo-admin",
        help="make the demo's admin account on first run; print the console and its sign-in",
    )
    parser.set_defaults(func=_cmd_demo_admin)
