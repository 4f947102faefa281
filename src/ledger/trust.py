"""Pinning a ledger's identity for the command line: `--trust FILE`, `--trust-on-first-use`.

Without a trust root, `verify`, `audit` and `import` never print an unqualified PASS or VALID:
the keys were taken from the material itself, so they exit with `EXIT_UNPINNED`. With
`--trust-on-first-use` the first fingerprint seen for an origin is recorded in the known-ledgers
file (like SSH's known_hosts) and every later use must match it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from ledger.integrity.trust_root import TrustRoot, TrustRootError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_UNPINNED = 3

UNPINNED = (
    "NOT PINNED: the keys were taken from the material itself, so this proves only that the"
    " material is consistent with keys it brings along. Pass --trust FILE (the trust root the"
    " ledger's owner publishes) or --trust-on-first-use."
)


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust", metavar="FILE", help="the ledger's trust root (`ledger trust-root` prints it)"
    )
    parser.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="pin the ledger seen now in the known-ledgers file; fail if it ever changes",
    )
    parser.add_argument(
        "--known-ledgers",
        metavar="FILE",
        help="known-ledgers file (env LEDGER_KNOWN_LEDGERS;"
        " default ~/.config/ledger/known_ledgers)",
    )


def load_trust_root(args: argparse.Namespace) -> TrustRoot | None:
    if not getattr(args, "trust", None):
        return None
    path = Path(args.trust)
    try:
        return TrustRoot.parse(path.read_bytes())
    except OSError as exc:
        raise TrustRootError(f"cannot read the trust root {path}: {exc.strerror}") from exc


def known_ledgers_path(args: argparse.Namespace) -> Path:
    named = getattr(args, "known_ledgers", None) or os.environ.get("LEDGER_KNOWN_LEDGERS")
    if named:
        return Path(named)
    return Path.home() / ".config" / "ledger" / "known_ledgers"


@dataclass(frozen=True)
class Pin:
    """The outcome of trust on first use."""

    fingerprint: str
    new: bool  # recorded now for the first time


class KnownLedgers:
    """`<origin> <fingerprint>` per line; comments start with `#`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        known: dict[str, str] = {}
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.split()
            if len(parts) != 2 or not parts[1].startswith("sha256:"):
                raise TrustRootError(f"{self.path} line {number} is not `<origin> sha256:<hex>`")
            known[parts[0]] = parts[1]
        return known

    def pin(self, origin: str, fingerprint: str) -> Pin:
        """Record `fingerprint` for `origin`, or check it against the one recorded before."""
        known = self.read()
        recorded = known.get(origin)
        if recorded is not None:
            if recorded != fingerprint:
                raise TrustRootError(
                    f"THE LEDGER {origin} HAS CHANGED ITS IDENTITY: {self.path} pins {recorded},"
                    f" this material's genesis is {fingerprint}. Someone may be impersonating the"
                    " ledger; do not trust this material until its owner confirms the change."
                )
            return Pin(fingerprint, new=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{origin} {fingerprint}\n")
        return Pin(fingerprint, new=True)
