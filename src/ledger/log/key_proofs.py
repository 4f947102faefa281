"""The key-history records of a log up to a tree size, each with its inclusion proof.

An offline verifier derives the key ring from these records (docs/ledger-format.md section 15)
instead of trusting a key ring handed to it, and checks them against a trust root.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from ledger.integrity.key_history import KEYRING_STREAM
from ledger.log.public import PublicLog
from ledger.log.storage import LogStorage


def key_history_proofs(storage: LogStorage, public: PublicLog, size: int) -> list[dict[str, Any]]:
    """`[{"position", "leaf_data", "proof"}]` of every key-history record below `size`."""
    found: list[dict[str, Any]] = []
    stream = UUID(KEYRING_STREAM)
    version = 1
    while True:
        position = storage.leaf_index(stream, version)
        if position is None or position >= size:
            return found
        leaf = public.entries(position, position + 1)[0]
        found.append(
            {
                "position": position,
                "leaf_data": base64.b64encode(leaf.leaf_data).decode("ascii"),
                "proof": [
                    base64.b64encode(h).decode("ascii")
                    for h in public.inclusion_proof(position, size)
                ],
            }
        )
        version += 1
