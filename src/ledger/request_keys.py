"""The Idempotency-Key of the command being run, handed down to the event recorder.

The HTTP layer binds a request's key before it runs a command; the store passes the binding to
the recorder, which writes the key's row in the same transaction as the command's events. So a
key is either unused or bound to exactly the events of one committed command, whatever crashes.
No framework or database here: the service layer only names the receipt's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

TABLE = "ledger_request_keys"


@dataclass
class KeyBinding:
    """A request's key, its fingerprint, and what the command has committed under it."""

    key: str
    actor: str
    fingerprint: str
    receipt_id: str = ""
    positions: list[int] = field(default_factory=list)
    """Notification ids of the events committed under this key (empty: nothing committed)."""

    @property
    def written(self) -> bool:
        return bool(self.positions)


_current: ContextVar[KeyBinding | None] = ContextVar("request_key", default=None)


@contextmanager
def bound(binding: KeyBinding) -> Iterator[KeyBinding]:
    token = _current.set(binding)
    try:
        yield binding
    finally:
        _current.reset(token)


def current() -> KeyBinding | None:
    return _current.get()


def note_receipt(ident: str) -> None:
    """The id the command's answer will carry (called before its events are saved)."""
    binding = _current.get()
    if binding is not None and ident and not binding.receipt_id:
        binding.receipt_id = ident
