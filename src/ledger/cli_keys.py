"""`ledger keys backup-data-keys --out FILE` and `ledger keys restore-data-keys FILE`.

The backup holds every data key still held, wrapped under the key-encryption key (never a key
in clear, and nothing here prints one): it restores personal data only together with that KEK,
which is kept apart from it. A restore skips people whose erasure the ledger's events record,
so an erasure made after the backup was taken stays final (docs: deploy/restore.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.config import Settings
from ledger.domain.person import PersonalDataErased


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if getattr(args, "keys_dir", None):
        env["LEDGER_KEYS_DIR"] = args.keys_dir
    return Settings.from_env(env)


def _cmd_backup(args: argparse.Namespace) -> int:
    from ledger.progress import Progress
    from ledger.store.application import open_store
    from ledger.store.key_backup import write_backup

    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"error: no folder {out.parent} to write the backup in", file=sys.stderr)
        return 1
    store = open_store(_settings(args))
    try:
        keys = store.person_keys
        count = write_backup(
            keys,
            store.signing.origin,
            out,
            datetime.now(UTC),
            progress=Progress("backing up data keys", keys.count_held()),
        )
        fingerprint = keys.kek_fingerprint
    finally:
        store.close()
    print(f"wrote {count:,} data keys, wrapped, to {out} (mode 0600)")
    print(
        f"they can be restored only with this ledger's key-encryption key ({fingerprint}):"
        " keep the backup apart from the keys folder"
    )
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from ledger.progress import Progress
    from ledger.runtime import open_runtime
    from ledger.store.key_backup import BackupError, read_header, restore_backup

    path = Path(args.file)
    runtime = open_runtime(_settings(args))
    try:
        header = read_header(path)
        summary = restore_backup(
            runtime.store.person_keys,
            runtime.store.signing.origin,
            path,
            erased=_erased(runtime.db),
            progress=Progress("restoring data keys", header.count),
        )
        # The people directory was built without the names it could not read: build it again.
        runtime.indexer.reindex()
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(
        f"restored {summary.restored:,} data keys; skipped {summary.skipped_erased:,} of people"
        f" erased since the backup was taken; {summary.already_present:,} already present"
    )
    if summary.restored:
        print("restart the ledger's server processes so that they read the restored names")
    return 0


def _erased(db: Any) -> set[str]:
    """Every person whose erasure the ledger's events record."""
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT originator_id FROM {db.events_table} WHERE topic = ?",
            (PersonalDataErased.TOPIC,),
        ).fetchall()
    # Ids as the service writes them (SQLite stores them as bare hex, PostgreSQL as uuid).
    return {str(UUID(str(row[0]))) for row in rows}


def register(key_commands: Any) -> None:
    backup = key_commands.add_parser(
        "backup-data-keys",
        help="write every data key still held, wrapped under the key-encryption key",
    )
    backup.add_argument("--out", required=True, help="the backup file to write (mode 0600)")
    backup.set_defaults(func=_cmd_backup)
    restore = key_commands.add_parser(
        "restore-data-keys",
        help="restore the data keys this ledger lacks from a backup (not those of erased people)",
    )
    restore.add_argument("file", help="a backup written by `ledger keys backup-data-keys`")
    restore.set_defaults(func=_cmd_restore)
