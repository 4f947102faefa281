"""Key history: the key ring at every log position, derived from signed records in the log.

Every change to the key ring is a record of one stream, the key-ring stream (`KEYRING_STREAM`):

    keyring.genesis          keys: the first key entries (position 0, self-signed)
    keyring.key_introduced   key: one new key entry
    keyring.key_retired      kid, valid_until
    keyring.key_compromised  kid, compromised_from

`KeyHistory` applies them in log order and enforces the rules of docs/ledger-format.md
section 15: the genesis at position 0, signed by a records key it introduces; every later change
signed by a records key valid at that moment (as the ring stood before the change); a compromise
marked by another key; no back-dated key, no retroactive retirement. Every record of the log must
be signed by a records key introduced at a lower position. The key ring a bundle or a server
shows (`keyring.json`, `/log/keyring`) is a view of `final()`: `compare` names the first
difference between a claimed ring and the derived one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from ledger.integrity.errors import KeyringError, RecordIntegrityError
from ledger.integrity.keyring import Keyring, PublicKey, format_time, parse_time
from ledger.integrity.merkle import leaf_hash, verify_inclusion
from ledger.integrity.record import SignedRecord, open_record, record_digest

# The stream id of the key ring: uuid5 of "keyring" in the ledger's namespace (the same namespace
# as derived stream ids, `uuid5(NAMESPACE_URL, "https://clustercoaching.eu/ledger")`).
KEYRING_STREAM = str(uuid5(uuid5(NAMESPACE_URL, "https://clustercoaching.eu/ledger"), "keyring"))
GENESIS = "keyring.genesis"
INTRODUCED = "keyring.key_introduced"
RETIRED = "keyring.key_retired"
COMPROMISED = "keyring.key_compromised"
TYPES = frozenset({GENESIS, INTRODUCED, RETIRED, COMPROMISED})


class KeyHistoryError(KeyringError):
    """A key-history rule is broken at a log position."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"log position {position}: {reason}")


@dataclass(frozen=True)
class Introduction:
    """Where a key entered the ring."""

    position: int
    key: PublicKey


def _entry(value: Any, what: str, position: int) -> PublicKey:
    if not isinstance(value, dict):
        raise KeyHistoryError(position, f"{what} is not a key entry object")
    try:
        key = PublicKey.from_json(value)
    except KeyringError as exc:
        raise KeyHistoryError(position, f"{what}: {exc}") from exc
    if set(value) != {
        "kid",
        "alg",
        "purpose",
        "public_key",
        "valid_from",
        "valid_until",
        "compromised_from",
    }:
        raise KeyHistoryError(position, f"{what} has members {sorted(value)}")
    if key.valid_until is not None or key.compromised_from is not None:
        raise KeyHistoryError(
            position, f"{what} {key.kid} is introduced with an end or a compromise mark"
        )
    return key


def _time(value: Any, what: str, position: int) -> datetime:
    if not isinstance(value, str):
        raise KeyHistoryError(position, f"{what} is not a time")
    try:
        return parse_time(value)
    except ValueError as exc:
        raise KeyHistoryError(position, f"{what} is not a time: {exc}") from exc


class KeyHistory:
    """The key ring as the log's records make it, position by position."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.keys: dict[str, PublicKey] = {}
        self.introduced: dict[str, int] = {}
        self.genesis: SignedRecord | None = None
        self.records = 0

    @property
    def genesis_digest(self) -> str | None:
        return None if self.genesis is None else record_digest(self.genesis.data)

    def check_signer(self, position: int, kid: str) -> str | None:
        """Why a record at `position` may not name `kid`, or None when the ring holds it."""
        key = self.keys.get(kid)
        if key is None:
            return f"key {kid} was not introduced by the key history before this position"
        if key.purpose != "records":
            return f"key {kid} is a {key.purpose} key, not a records key"
        return None

    def apply(self, position: int, signed: SignedRecord) -> None:
        """Apply the key-history record at `position` (its signature must verify)."""
        record = signed.record
        if record.origin != self.origin:
            raise KeyHistoryError(position, f"key-history record of origin {record.origin}")
        if record.stream != KEYRING_STREAM:
            raise KeyHistoryError(position, f"{record.type} outside the key-ring stream")
        payload = record.payload
        if record.type == GENESIS:
            self._genesis(position, signed)
            self.records += 1
            return
        if self.genesis is None:
            raise KeyHistoryError(position, f"{record.type} before the genesis")
        signer = self._valid_signer(position, record.kid, record.recorded_at, signed)
        at = record.recorded_at
        if record.type == INTRODUCED:
            key = _entry(payload.get("key"), "introduced key", position)
            if key.kid in self.keys:
                raise KeyHistoryError(position, f"key {key.kid} is introduced a second time")
            if key.valid_from < at:
                raise KeyHistoryError(
                    position,
                    f"key {key.kid} is back-dated: valid from {format_time(key.valid_from)},"
                    f" introduced at {format_time(at)}",
                )
            self.keys[key.kid] = key
            self.introduced[key.kid] = position
        elif record.type == RETIRED:
            kid = self._known(position, payload.get("kid"))
            until = _time(payload.get("valid_until"), "valid_until", position)
            if self.keys[kid].valid_until is not None:
                raise KeyHistoryError(position, f"key {kid} is already retired")
            if until < at:
                raise KeyHistoryError(
                    position,
                    f"key {kid} is retired retroactively: until {format_time(until)},"
                    f" recorded at {format_time(at)}",
                )
            self.keys[kid] = replace(self.keys[kid], valid_until=until)
        elif record.type == COMPROMISED:
            kid = self._known(position, payload.get("kid"))
            since = _time(payload.get("compromised_from"), "compromised_from", position)
            if signer.kid == kid:
                raise KeyHistoryError(position, f"key {kid} marks itself compromised")
            earlier = self.keys[kid].compromised_from
            if earlier is not None and since >= earlier:
                raise KeyHistoryError(
                    position,
                    f"key {kid} is already compromised from {format_time(earlier)};"
                    " a later mark may only move that earlier",
                )
            self.keys[kid] = replace(self.keys[kid], compromised_from=since)
        else:
            raise KeyHistoryError(position, f"unknown key-history type {record.type}")
        self.records += 1

    def _genesis(self, position: int, signed: SignedRecord) -> None:
        record = signed.record
        if position != 0 or self.genesis is not None:
            raise KeyHistoryError(position, "a genesis record anywhere but log position 0")
        if record.version != 1 or record.prev is not None:
            raise KeyHistoryError(position, "the genesis is not version 1 of its stream")
        entries = record.payload.get("keys")
        if not isinstance(entries, list) or not entries:
            raise KeyHistoryError(position, "the genesis introduces no keys")
        keys = [_entry(e, "genesis key", position) for e in entries]
        purposes = {k.purpose for k in keys}
        if purposes != {"records", "checkpoints"}:
            raise KeyHistoryError(
                position, "the genesis must introduce a records key and a checkpoints key"
            )
        for key in keys:
            if key.kid in self.keys:
                raise KeyHistoryError(position, f"genesis key {key.kid} is listed twice")
            if key.valid_from > record.recorded_at:
                raise KeyHistoryError(
                    position, f"genesis key {key.kid} is valid only after the genesis"
                )
            self.keys[key.kid] = key
            self.introduced[key.kid] = position
        signer = self.keys.get(record.kid)
        if signer is None or signer.purpose != "records":
            self.keys.clear()
            raise KeyHistoryError(position, "the genesis is not signed by a records key it lists")
        if not signer.verify(signed.signature, record.message()):
            self.keys.clear()
            raise KeyHistoryError(position, f"the genesis signature does not verify ({signer.kid})")
        self.genesis = signed

    def _valid_signer(
        self, position: int, kid: str, at: datetime, signed: SignedRecord
    ) -> PublicKey:
        reason = self.check_signer(position, kid)
        if reason is not None:
            raise KeyHistoryError(position, reason)
        key = self.keys[kid]
        try:
            key.check_signing_time(at)
        except KeyringError as exc:
            raise KeyHistoryError(
                position, f"key change signed by a key not valid then: {exc}"
            ) from exc
        if not key.verify(signed.signature, signed.record.message()):
            raise KeyHistoryError(position, f"key change signature does not verify ({kid})")
        return key

    def _known(self, position: int, kid: Any) -> str:
        if not isinstance(kid, str) or kid not in self.keys:
            raise KeyHistoryError(position, f"key {kid!r} is not in the key ring")
        return kid

    def final(self) -> Keyring:
        """The key ring after every record applied so far."""
        return Keyring(origin=self.origin, keys=tuple(self.keys.values()))


def derive(origin: str, records: Iterable[tuple[int, SignedRecord]]) -> KeyHistory:
    """Apply the key-history records (with their log positions, in order)."""
    history = KeyHistory(origin)
    for position, signed in records:
        history.apply(position, signed)
    return history


def derive_proven(entries: Iterable[Mapping[str, Any]]) -> KeyHistory:
    """The key history from `[{"position", "leaf_data", "proof"}]` (a credential bundle's
    `key_history`, or `GET /log/key-history`): signatures and rules checked, not inclusion."""
    history: KeyHistory | None = None
    for entry in entries:
        try:
            data = base64.b64decode(entry["leaf_data"], validate=True)
            members = json.loads(data)
            signed = open_record(data, str(members["stream"]), int(members["version"]))
            position = int(entry["position"])
        except (KeyError, TypeError, ValueError, RecordIntegrityError) as exc:
            raise KeyHistoryError(-1, f"a key-history entry is malformed: {exc}") from exc
        if history is None:
            history = KeyHistory(signed.record.origin)
        history.apply(position, signed)
    if history is None or history.genesis is None:
        raise KeyHistoryError(0, "no key-history records, so no genesis to trace the keys to")
    return history


def prove_included(entries: Iterable[Mapping[str, Any]], size: int, root: bytes) -> None:
    """Every entry's leaf is in the tree of `size` with `root` (raises `MerkleError`)."""
    for entry in entries:
        data = base64.b64decode(entry["leaf_data"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in entry["proof"]]
        verify_inclusion(leaf_hash(data), int(entry["position"]), size, proof, root)


def compare(claimed: Keyring, derived: Keyring) -> str | None:
    """The first difference between a claimed key ring and the one the records derive."""
    if claimed.origin != derived.origin:
        return f"the key ring is of origin {claimed.origin}, the records of {derived.origin}"
    mine = {k.kid: k for k in derived.keys}
    theirs = {k.kid: k for k in claimed.keys}
    for kid, key in theirs.items():
        if kid not in mine:
            return f"key {kid} of the key ring was not introduced by any key-history record"
        if key != mine[kid]:
            want, got = mine[kid].to_json(), key.to_json()
            member = next(m for m in want if want[m] != got[m])
            return (
                f"key {kid}: the key ring says {member} {got[member]},"
                f" the key-history records say {want[member]}"
            )
    for kid in mine:
        if kid not in theirs:
            return f"key {kid}, introduced by the key history, is missing from the key ring"
    return None


def key_entry(key: PublicKey) -> dict[str, Any]:
    """A key entry as key-history payloads hold it (section 7 form)."""
    return key.to_json()


def public_key_b64(key: PublicKey) -> str:
    return base64.b64encode(key.public_key).decode("ascii")
