"""`ledger staff invite|list|disable`: the console's staff accounts from the command line.

`invite` prints the one-time link (`LEDGER_PUBLIC_URL/console/invitation/<token>`) with which
the person chooses a password and, if they wish, a second factor; the token itself is never
stored (only its hash), so the link is shown only this once."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import Any

from ledger.config import Settings

ROLES = ["admin", "registrar", "tutor", "committee", "auditor"]


def _cmd_staff(args: argparse.Namespace) -> int:
    from ledger.console.accounts import AccountError, Accounts
    from ledger.console.invitations import Invitations, invitation_path
    from ledger.console.session_store import Sessions
    from ledger.db import Database
    from ledger.domain.actors import Role
    from ledger.store.application import open_store

    settings = Settings.from_env(os.environ)
    store = open_store(settings)  # the database and its tables exist
    db = Database(settings)
    try:
        accounts = Accounts(db)
        if args.staff_cmd == "invite":
            role = Role(args.role)
            if args.person and not _person_exists(store, args.person):
                print(f"error: no person has the id {args.person!r}", file=sys.stderr)
                return 1
            token = Invitations(db, accounts).invite(
                role,
                args.person,
                args.username,
                invited_by="command line",
                valid_for=timedelta(days=args.days),
            )
            print(settings.public_url + invitation_path(token))
            print(
                f"invitation ({role}) valid for {args.days} days, once; the link is shown only"
                " this once",
                file=sys.stderr,
            )
        elif args.staff_cmd == "disable":
            account = accounts.disable(args.username)
            Sessions(db, idle=timedelta(minutes=settings.console_idle_minutes)).end_all(
                account.staff_id
            )
            print(f"account {account.username!r} disabled; its sessions have ended")
        else:
            for account in accounts.all():
                state = "disabled" if account.disabled else "active"
                factor = "totp" if account.has_totp else "-"
                print(
                    f"{account.username:<24}{account.role:<11}{account.person_id or '-':<38}"
                    f"{account.staff_id:<24}{factor:<6}{state}"
                )
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
        store.close()
    return 0


def _person_exists(store: Any, person_id: str) -> bool:
    from ledger.clock import SystemClock
    from ledger.domain.errors import DomainError
    from ledger.service import LedgerService

    try:
        LedgerService(store, store.person_keys, SystemClock()).person(person_id)
    except (DomainError, ValueError):
        return False
    return True


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= days <= 30:
        raise argparse.ArgumentTypeError(f"{days} days: an invitation is valid 1 to 30 days")
    return days


def register(commands: Any) -> None:
    staff = commands.add_parser("staff", help="staff accounts of the console")
    staff_cmds = staff.add_subparsers(dest="staff_cmd", required=True)
    invite = staff_cmds.add_parser("invite", help="print a one-time invitation link")
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.add_argument("--person", help="the person id a tutor or committee member acts as")
    invite.add_argument("--username", help="a suggested username (the person may change it)")
    invite.add_argument("--days", type=_days, default=7, help="days the link is valid (default 7)")
    invite.set_defaults(func=_cmd_staff)
    staff_cmds.add_parser("list", help="list accounts (never passwords)").set_defaults(
        func=_cmd_staff
    )
    disable = staff_cmds.add_parser("disable", help="disable an account; its sessions end")
    disable.add_argument("username")
    disable.set_defaults(func=_cmd_staff)
