"""A witness's folder: its key, the logs it witnesses, and its database.

witness.key     the signing key, `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>` (mode 0600)
witness.vkey    its cosignature/v1 verifier key (type 0x04), to give to log operators
logs.conf       one `log <vkey>` line per witnessed log (the vkey's name is the log's origin);
                several lines with one origin pin several keys of that log (key rotation)
witness.sqlite  the last cosigned checkpoint of each log and the evidence of refusals
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.note import (
    CosignatureV1Verifier,
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    is_valid_key_name,
    parse_signer_key,
    parse_verifier_key,
)

KEY_FILE = "witness.key"
VKEY_FILE = "witness.vkey"
LOGS_FILE = "logs.conf"
DATABASE_FILE = "witness.sqlite"
_LOGS_HEADER = (
    "# Logs this witness cosigns: one line 'log <vkey>' per log key.\n"
    "# The vkey's name is the log's origin; add a line per key when a log rotates its key.\n"
)


class WitnessFolderError(ValueError):
    """The folder is missing, already set up, or one of its files is malformed (names it)."""


@dataclass(frozen=True)
class WitnessKey:
    """The witness's Ed25519 key, used only for cosignature/v1 signatures."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> CosignatureV1Verifier:
        return CosignatureV1Verifier(self.name, self.private_key.public_key())

    def vkey(self) -> str:
        return self.verifier.vkey()


class WitnessFolder:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def database(self) -> Path:
        return self.path / DATABASE_FILE

    def exists(self) -> bool:
        return (self.path / KEY_FILE).is_file()

    def init(self, name: str) -> WitnessKey:
        """Create the key and an empty log list. Refuses to overwrite an existing key."""
        if not is_valid_key_name(name):
            raise WitnessFolderError(
                f"witness name {name!r} is not a valid key name (no spaces, no '+'),"
                " e.g. witness.example.org/w1"
            )
        if self.exists():
            raise WitnessFolderError(f"{self.path / KEY_FILE} already exists; not overwriting it")
        self.path.mkdir(parents=True, exist_ok=True)
        signer = Ed25519Signer(name, Ed25519PrivateKey.generate())
        key_path = self.path / KEY_FILE
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(signer.skey() + "\n")
        key = WitnessKey(name, signer.private_key)
        (self.path / VKEY_FILE).write_text(key.vkey() + "\n", encoding="ascii")
        logs = self.path / LOGS_FILE
        if not logs.exists():
            logs.write_text(_LOGS_HEADER, encoding="utf-8")
        return key

    def key(self) -> WitnessKey:
        path = self.path / KEY_FILE
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            raise WitnessFolderError(
                f"no witness key at {path}; create one with `ledger witness init`"
            ) from None
        try:
            signer = parse_signer_key(text)
        except NoteError as exc:
            raise WitnessFolderError(f"{path} is not a signer key: {exc}") from exc
        return WitnessKey(signer.name, signer.private_key)

    def logs(self) -> dict[str, list[Ed25519Verifier]]:
        """The pinned log keys by origin."""
        path = self.path / LOGS_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        return parse_logs(text, str(path))

    def add_log(self, vkey: str) -> Ed25519Verifier:
        """Pin a log key (its name is the log's origin). Adding a pinned key again is refused."""
        verifier = _log_key(vkey, "the key")
        for known in self.logs().get(verifier.name, []):
            if known.public_key_bytes == verifier.public_key_bytes:
                raise WitnessFolderError(f"log key {vkey} is already pinned")
        path = self.path / LOGS_FILE
        existing = path.read_text(encoding="utf-8") if path.exists() else _LOGS_HEADER
        if existing and not existing.endswith("\n"):
            existing += "\n"
        path.write_text(existing + f"log {verifier.vkey()}\n", encoding="utf-8")
        return verifier


def _log_key(vkey: str, where: str) -> Ed25519Verifier:
    try:
        verifier = parse_verifier_key(vkey)
    except NoteError as exc:
        raise WitnessFolderError(f"{where}: {exc}") from exc
    if not isinstance(verifier, Ed25519Verifier):
        raise WitnessFolderError(f"{where}: {vkey} is not a log key (Ed25519, type 0x01)")
    return verifier


def parse_logs(text: str, source: str = LOGS_FILE) -> dict[str, list[Ed25519Verifier]]:
    """Parse `log <vkey>` lines (blank lines and `#` comments allowed)."""
    found: dict[str, list[Ed25519Verifier]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        items = line.split()
        if not items or items[0].startswith("#"):
            continue
        if items[0] != "log" or len(items) != 2:
            raise WitnessFolderError(f"{source} line {number}: want 'log <vkey>', got {line!r}")
        verifier = _log_key(items[1], f"{source} line {number}")
        found.setdefault(verifier.name, []).append(verifier)
    return found
