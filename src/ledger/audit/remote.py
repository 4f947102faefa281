"""`ledger audit URL`: fetch a running ledger's public log into a bundle, then audit that.

Uses only the public routes: `/log/keyring`, `/log/checkpoint` and `/log/entries` (paged). A
remote bundle has the newest checkpoint only and says where each record is stored by the record
itself; everything else is checked exactly as for an exported bundle.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ledger.audit.bundle import CHECKPOINTS, FORMAT, KEYRING, MANIFEST, RECORDS, STORED, BundleError
from ledger.integrity.note import parse_checkpoint, parse_note
from ledger.integrity.scan import scan

PAGE = 1000


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - http(s) only
            return bytes(response.read())
    except (urllib.error.URLError, TimeoutError) as exc:
        raise BundleError(f"cannot read {url}: {exc}") from exc


def fetch_bundle(base: str, directory: Path, progress: Any = None) -> int:
    """Download the public log of `base` into `directory` as a bundle; the number of records."""
    if not base.startswith(("http://", "https://")):
        raise BundleError(f"{base} is not an http(s) URL")
    base = base.rstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    keyring = json.loads(_get(f"{base}/log/keyring"))
    note = _get(f"{base}/log/checkpoint").decode()
    text, _ = parse_note(note)
    size = parse_checkpoint(text).size
    count = 0
    with (directory / RECORDS).open("wb") as records, (directory / STORED).open("w") as stored:
        stored.write("stream,version,type\n")
        while count < size:
            page = json.loads(
                _get(f"{base}/log/entries?start={count}&end={min(count + PAGE, size)}")
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
                "source": base,
                "projections": False,
            },
            indent=2,
        )
        + "\n"
    )
    return count
