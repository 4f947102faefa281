"""The process-wide key ring and the private keys this process signs with.

The key ring is derived from the key-history records of the log (`store.key_history`); the
key folder's `keyring.json` is its view. When the view changes (another process rotated a key
or marked one compromised) this notices within a second and derives the ring from the log
again, so a running server never signs with a retired key and verifies against the current
compromise marks. The file's content is never trusted once a source is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from ledger.integrity.errors import KeyringError
from ledger.integrity.keyring import KeyDirectory, Keyring, Purpose, Signer

RELOAD_INTERVAL = 0.5


class Signing:
    def __init__(
        self,
        keyring: Keyring,
        signers: Mapping[str, Signer] | None = None,
        directory: KeyDirectory | None = None,
    ) -> None:
        self._keyring = keyring
        self._signers = dict(signers or {})
        self._directory = directory
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._mtime = self._stat()
        self._source: Callable[[], Keyring] | None = None
        self.generation = 0

    @classmethod
    def load(cls, directory: KeyDirectory, *, with_private: bool = True) -> Signing:
        signing = cls(directory.load(), directory=directory)
        if with_private:
            signing._signers = _load_signers(directory, signing._keyring)
        return signing

    def _stat(self) -> float | None:
        if self._directory is None:
            return None
        try:
            return self._directory.keyring_path.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return None

    def reload(self) -> None:
        """Re-read the key ring now (the CLI changed it in this process)."""
        self._checked = 0.0
        self._refresh()

    def _refresh(self) -> None:
        if self._directory is None or time.monotonic() - self._checked < RELOAD_INTERVAL:
            return
        with self._lock:
            self._checked = time.monotonic()
            mtime = self._stat()
            if mtime == self._mtime:
                return
            keyring = self._source() if self._source is not None else self._directory.load()
            if keyring.origin != self._keyring.origin:
                raise KeyringError("the key ring's origin changed under a running ledger")
            self._keyring = keyring
            if self._signers:
                self._signers = _load_signers(self._directory, keyring)
            self._mtime = mtime
            self.generation += 1

    def set_source(self, source: Callable[[], Keyring]) -> None:
        """Derive the key ring with `source` (from the log) whenever the view changes."""
        self._source = source

    def use(self, keyring: Keyring) -> None:
        """Use `keyring` (derived from the log) from now on."""
        if keyring.origin != self._keyring.origin:
            raise KeyringError("the key ring's origin changed under a running ledger")
        with self._lock:
            changed = keyring != self._keyring
            self._keyring = keyring
            if self._signers and self._directory is not None:
                self._signers = _load_signers(self._directory, keyring)
            self._mtime = self._stat()
            self._checked = time.monotonic()
            if changed:
                self.generation += 1

    @property
    def keyring(self) -> Keyring:
        self._refresh()
        return self._keyring

    @property
    def origin(self) -> str:
        return self._keyring.origin

    def signer_at(self, at: datetime, purpose: Purpose = "records") -> Signer:
        key = self.keyring.current(purpose, at)
        try:
            return self._signers[key.kid]
        except KeyError:
            raise KeyringError(f"this process holds no private key for {key.kid}") from None


def _load_signers(directory: KeyDirectory, keyring: Keyring) -> dict[str, Signer]:
    signers: dict[str, Signer] = {}
    for key in keyring.keys:
        try:
            signers[key.kid] = directory.signer(key)
        except KeyringError:
            continue  # retired keys need not stay on the signing host
    return signers
