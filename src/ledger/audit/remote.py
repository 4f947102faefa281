"""`ledger audit URL`: fetch a running ledger's log into a bundle, then audit that.

Reads `/log/keyring` and `/log/checkpoint` (public) and `/log/entries` (paged; the full records
are for auditors, so it sends an auditor's bearer token). A remote bundle has the newest
checkpoint only and says where each record is stored by the record itself; everything else is
checked exactly as for an exported bundle.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ledger.audit.bundle import CHECKPOINTS, FORMAT, KEYRING, MANIFEST, RECORDS, STORED, BundleError
from ledger.audit.fetch import Fetcher
from ledger.config import AuditClientLimits
from ledger.integrity.keyring import format_time
from ledger.integrity.note import parse_checkpoint, parse_note
from ledger.integrity.scan import scan

PAGE = 1000


@contextmanager
def temporary_folder() -> Iterator[Path]:
    """A temporary folder removed on every exit: normal, error, Ctrl-C, SIGTERM or SIGHUP."""

    def leave(signum: int, _: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGTERM, signal.SIGHUP)}
    folder = Path(tempfile.mkdtemp(prefix="ledger-audit-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def fetch_bundle(
    base: str,
    directory: Path,
    progress: Any = None,
    limits: AuditClientLimits | None = None,
    token: str | None = None,
) -> int:
    """Download the public log of `base` into `directory` as a bundle; the number of records.

    Stops with a `BundleError` that says why at any limit of `limits` (by default from the
    LEDGER_AUDIT_* environment variables)."""
    fetcher = Fetcher(base, limits or AuditClientLimits.from_env(os.environ), token)
    base = base.rstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    keyring = json.loads(fetcher.get(f"{base}/log/keyring"))
    note = fetcher.get(f"{base}/log/checkpoint").decode()
    text, _ = parse_note(note)
    size = parse_checkpoint(text).size
    count = 0
    with (directory / RECORDS).open("wb") as records, (directory / STORED).open("w") as stored:
        stored.write("stream,version,type\n")
        while count < size:
            page = json.loads(
                fetcher.get(f"{base}/log/entries?start={count}&end={min(count + PAGE, size)}")
            )
            entries = page["entries"]
            if not entries:
                raise BundleError(
                    f"{base} returned no entries at {count}, below its checkpoint {size}"
                )
            for entry in entries:
                if entry["index"] != count:
                    raise BundleError(
                        f"{base} returned entry {entry['index']} where {count} was due"
                    )
                data = base64.b64decode(entry["leaf_data"], validate=True)
                envelope = scan(data)
                place = (
                    "?,0,?"
                    if envelope is None
                    else f"{envelope.stream.decode()},{envelope.version},{envelope.type.decode()}"
                )
                records.write(data + b"\n")
                stored.write(place + "\n")
                count += 1
            if progress is not None:
                progress(count)
    (directory / CHECKPOINTS).write_text(json.dumps({"size": size, "note": note}) + "\n")
    (directory / KEYRING).write_text(json.dumps(keyring, indent=2) + "\n")
    (directory / MANIFEST).write_text(
        json.dumps(
            {
                "format": FORMAT,
                "origin": keyring.get("origin"),
                "records": count,
                "checkpoints": 1,
                "exported_at": format_time(datetime.now(UTC)),  # when it was fetched
                "projections": False,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    return count
