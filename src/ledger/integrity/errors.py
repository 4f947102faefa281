"""Integrity errors: each names what failed and where, never a bare False."""

from __future__ import annotations


class IntegrityError(Exception):
    """Stored data does not verify."""


class RecordIntegrityError(IntegrityError):
    """A stored record of a stream failed verification.

    Carries the stream id and version so that the operator or auditor knows exactly where.
    """

    def __init__(self, stream: str, version: int, reason: str) -> None:
        self.stream = stream
        self.version = version
        self.reason = reason
        super().__init__(f"stream {stream} version {version}: {reason}")


class KeyringError(IntegrityError):
    """A key id is unknown, outside its validity window, or compromised."""


class DecryptionError(IntegrityError):
    """Personal data did not decrypt under its person's key and associated data."""
