"""The key ring's history as events of one stream (docs/ledger-format.md section 15).

The events carry key entries in the key ring's own JSON form; the rules that make the history
trustworthy (genesis first, every change signed by a key valid then) are checked by
`ledger.integrity.key_history`, which derives the key ring from these records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    derived_id,
    event_type,
)

KEYRING_ID = derived_id("keyring")  # = ledger.integrity.key_history.KEYRING_STREAM


@event_type
class KeyringGenesis(LedgerCreated):
    TOPIC = "keyring.genesis"
    keys: tuple[dict[str, Any], ...]

    def apply(self, ring: KeyHistory) -> None:
        ring.kids = [str(entry["kid"]) for entry in self.keys]


@event_type
class KeyIntroduced(LedgerEvent):
    TOPIC = "keyring.key_introduced"
    key: dict[str, Any]

    def apply(self, ring: KeyHistory) -> None:
        ring.kids.append(str(self.key["kid"]))


@event_type
class KeyRetired(LedgerEvent):
    TOPIC = "keyring.key_retired"
    kid: str
    valid_until: str

    def apply(self, ring: KeyHistory) -> None:
        pass


@event_type
class KeyCompromised(LedgerEvent):
    TOPIC = "keyring.key_compromised"
    kid: str
    compromised_from: str

    def apply(self, ring: KeyHistory) -> None:
        pass


@aggregate_type(KeyringGenesis)
class KeyHistory(LedgerAggregate):
    """The key-ring stream: which keys it has introduced (the rules live in integrity)."""

    TYPE_NAME = "keyring"
    if TYPE_CHECKING:
        kids: list[str]
