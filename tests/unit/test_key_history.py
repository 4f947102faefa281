"""The key-history rules (docs/ledger-format.md section 15), on records signed with real keys.

Each test builds a short history of key-ring records with `Record` + `seal` and applies it with
`KeyHistory`, the same code the auditor, the offline verifier and the store use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.integrity.key_history import (
    COMPROMISED,
    GENESIS,
    INTRODUCED,
    KEYRING_STREAM,
    RETIRED,
    KeyHistory,
    KeyHistoryError,
    compare,
    derive,
)
from ledger.integrity.keyring import Keyring, PublicKey, Purpose, Signer, format_time, key_id
from ledger.integrity.record import Record, SignedRecord, seal

ORIGIN = "ledger.test/log"
T0 = datetime(2020, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Key:
    public: PublicKey
    signer: Signer

    @property
    def kid(self) -> str:
        return self.public.kid


def make_key(purpose: Purpose, valid_from: datetime = T0) -> Key:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = key_id(raw)
    return Key(PublicKey(kid, purpose, raw, valid_from), Signer(kid, private))


@dataclass
class Chain:
    """The key-ring stream as a sequence of sealed records (versions and `prev` chained)."""

    records: list[SignedRecord] = field(default_factory=list)

    def add(
        self,
        type_: str,
        signer: Key,
        at: datetime,
        *,
        origin: str = ORIGIN,
        stream: str = KEYRING_STREAM,
        **members: Any,
    ) -> SignedRecord:
        previous = self.records[-1] if self.records else None
        record = Record(
            origin=origin,
            stream=stream,
            version=len(self.records) + 1,
            type=type_,
            recorded_at=at,
            payload={"actor": "key-manager", "role": "admin", "effective_on": None, **members},
            prev=None if previous is None else previous.digest,
            kid=signer.kid,
        )
        signed = seal(record, signer.signer)
        self.records.append(signed)
        return signed


def genesis(chain: Chain, records: Key, checkpoints: Key, signer: Key | None = None) -> None:
    chain.add(
        GENESIS,
        signer or records,
        T0,
        keys=[records.public.to_json(), checkpoints.public.to_json()],
    )


def start() -> tuple[Chain, Key, Key]:
    records, checkpoints = make_key("records"), make_key("checkpoints")
    chain = Chain()
    genesis(chain, records, checkpoints)
    return chain, records, checkpoints


def apply_all(chain: Chain, positions: list[int] | None = None) -> KeyHistory:
    return derive(ORIGIN, zip(positions or range(len(chain.records)), chain.records, strict=True))


def fails(chain: Chain, position: int, reason: str, positions: list[int] | None = None) -> None:
    with pytest.raises(KeyHistoryError, match=reason) as caught:
        apply_all(chain, positions)
    assert caught.value.position == position
    assert str(caught.value).startswith(f"log position {position}: ")


# -- the genesis -----------------------------------------------------------------------------


def test_a_self_signed_genesis_at_position_0_makes_the_first_ring() -> None:
    chain, records, checkpoints = start()
    history = apply_all(chain)
    assert history.genesis is chain.records[0]
    assert history.genesis_digest == chain.records[0].digest
    assert history.records == 1
    assert history.final() == Keyring(ORIGIN, (records.public, checkpoints.public))
    assert history.introduced == {records.kid: 0, checkpoints.kid: 0}


def test_a_genesis_anywhere_but_position_0_fails() -> None:
    chain, _, _ = start()
    fails(chain, 4, "a genesis record anywhere but log position 0", positions=[4])


def test_a_second_genesis_fails_at_its_position() -> None:
    chain, records, checkpoints = start()
    other = Chain()
    genesis(other, make_key("records"), make_key("checkpoints"))
    history = apply_all(chain)
    with pytest.raises(KeyHistoryError, match="anywhere but log position 0") as caught:
        history.apply(9, other.records[0])
    assert caught.value.position == 9
    assert history.final().keys == (records.public, checkpoints.public)  # unchanged


def test_a_genesis_signed_by_a_key_it_does_not_list_fails() -> None:
    records, checkpoints = make_key("records"), make_key("checkpoints")
    chain = Chain()
    genesis(chain, records, checkpoints, signer=make_key("records"))
    fails(chain, 0, "the genesis is not signed by a records key it lists")


def test_a_genesis_signed_by_its_checkpoints_key_fails() -> None:
    records, checkpoints = make_key("records"), make_key("checkpoints")
    chain = Chain()
    genesis(chain, records, checkpoints, signer=checkpoints)
    fails(chain, 0, "the genesis is not signed by a records key it lists")


def test_a_genesis_whose_signature_does_not_verify_fails() -> None:
    records, checkpoints = make_key("records"), make_key("checkpoints")
    impostor = Key(records.public, make_key("records").signer)  # another private key, same kid
    chain = Chain()
    record = Record(
        ORIGIN,
        KEYRING_STREAM,
        1,
        GENESIS,
        T0,
        {
            "actor": "key-manager",
            "role": "admin",
            "effective_on": None,
            "keys": [records.public.to_json(), checkpoints.public.to_json()],
        },
        None,
        records.kid,
    )
    chain.records.append(
        seal(record, Signer(records.kid, impostor.signer.private_key))  # kid says records
    )
    fails(chain, 0, f"the genesis signature does not verify \\({records.kid}\\)")


def test_a_genesis_without_a_checkpoints_key_fails() -> None:
    records = make_key("records")
    chain = Chain()
    chain.add(GENESIS, records, T0, keys=[records.public.to_json()])
    fails(chain, 0, "must introduce a records key and a checkpoints key")


def test_a_genesis_key_valid_only_after_the_genesis_fails() -> None:
    records, checkpoints = make_key("records"), make_key("checkpoints", T0 + HOUR)
    chain = Chain()
    genesis(chain, records, checkpoints)
    fails(chain, 0, f"genesis key {checkpoints.kid} is valid only after the genesis")


def test_a_key_change_before_any_genesis_fails() -> None:
    records = make_key("records")
    chain = Chain()
    chain.add(INTRODUCED, records, T0, key=make_key("records").public.to_json())
    fails(chain, 0, "keyring.key_introduced before the genesis")


# -- introductions ---------------------------------------------------------------------------


def test_a_key_introduced_by_an_unknown_key_fails() -> None:
    chain, _, _ = start()
    stranger = make_key("records", T0)
    fresh = make_key("records", T0 + HOUR)
    chain.add(INTRODUCED, stranger, T0 + HOUR, key=fresh.public.to_json())
    fails(
        chain, 1, f"key {stranger.kid} was not introduced by the key history before this position"
    )


def test_a_key_introduced_by_a_checkpoints_key_fails() -> None:
    chain, _, checkpoints = start()
    fresh = make_key("records", T0 + HOUR)
    chain.add(INTRODUCED, checkpoints, T0 + HOUR, key=fresh.public.to_json())
    fails(chain, 1, f"key {checkpoints.kid} is a checkpoints key, not a records key")


def test_a_back_dated_key_fails() -> None:
    chain, records, _ = start()
    fresh = make_key("records", T0 + HOUR)
    chain.add(INTRODUCED, records, T0 + 2 * HOUR, key=fresh.public.to_json())
    fails(
        chain,
        1,
        f"key {fresh.kid} is back-dated: valid from {format_time(T0 + HOUR)},"
        f" introduced at {format_time(T0 + 2 * HOUR)}",
    )


def test_a_key_introduced_twice_fails() -> None:
    chain, records, checkpoints = start()
    chain.add(INTRODUCED, records, T0 + HOUR, key=checkpoints.public.to_json())
    fails(chain, 1, f"key {checkpoints.kid} is introduced a second time")


def test_a_key_introduced_already_retired_fails() -> None:
    chain, records, _ = start()
    entry = make_key("records", T0 + HOUR).public.to_json()
    entry["valid_until"] = format_time(T0 + 5 * HOUR)
    chain.add(INTRODUCED, records, T0 + HOUR, key=entry)
    fails(chain, 1, "is introduced with an end or a compromise mark")


def test_a_key_change_whose_signature_does_not_verify_fails() -> None:
    chain, records, _ = start()
    fresh = make_key("records", T0 + HOUR)
    chain.add(INTRODUCED, records, T0 + HOUR, key=fresh.public.to_json())
    last = chain.records[-1]
    chain.records[-1] = SignedRecord(last.record, bytes(64), last.data)
    fails(chain, 1, f"key change signature does not verify \\({records.kid}\\)")


# -- rotation and retirement -----------------------------------------------------------------


def rotate(chain: Chain, old: Key, at: datetime, signer: Key | None = None) -> Key:
    """Introduce a new key of the old one's purpose and retire the old one, both at `at`."""
    fresh = make_key(old.public.purpose, at)
    chain.add(INTRODUCED, signer or old, at, key=fresh.public.to_json())
    chain.add(RETIRED, signer or old, at, kid=old.kid, valid_until=format_time(at))
    return fresh


def test_a_rotation_introduces_the_new_key_and_closes_the_old_window() -> None:
    chain, records, checkpoints = start()
    fresh = rotate(chain, records, T0 + HOUR)
    history = apply_all(chain)
    assert history.records == 3
    final = history.final()
    assert final.get(records.kid).valid_until == T0 + HOUR
    assert final.get(fresh.kid).valid_from == T0 + HOUR
    assert final.get(checkpoints.kid) == checkpoints.public
    assert history.introduced[fresh.kid] == 1
    assert history.check_signer(3, fresh.kid) is None


def test_a_retroactive_retirement_fails() -> None:
    chain, records, _ = start()
    chain.add(RETIRED, records, T0 + 2 * HOUR, kid=records.kid, valid_until=format_time(T0 + HOUR))
    fails(
        chain,
        1,
        f"key {records.kid} is retired retroactively: until {format_time(T0 + HOUR)},"
        f" recorded at {format_time(T0 + 2 * HOUR)}",
    )


def test_a_second_retirement_fails() -> None:
    chain, records, checkpoints = start()
    fresh = rotate(chain, checkpoints, T0 + HOUR, signer=records)
    assert fresh.public.purpose == "checkpoints"
    chain.add(
        RETIRED, records, T0 + 2 * HOUR, kid=checkpoints.kid, valid_until=format_time(T0 + 3 * HOUR)
    )
    fails(chain, 3, f"key {checkpoints.kid} is already retired")


def test_retiring_an_unknown_key_fails() -> None:
    chain, records, _ = start()
    chain.add(RETIRED, records, T0 + HOUR, kid="0123456789abcdef", valid_until=format_time(T0))
    fails(chain, 1, "key '0123456789abcdef' is not in the key ring")


def test_a_change_signed_by_a_retired_key_fails() -> None:
    chain, records, _ = start()
    rotate(chain, records, T0 + HOUR)
    late = make_key("records", T0 + 2 * HOUR)
    chain.add(INTRODUCED, records, T0 + 2 * HOUR, key=late.public.to_json())
    fails(chain, 3, f"key change signed by a key not valid then: key {records.kid} expired")


# -- compromise ------------------------------------------------------------------------------


def test_a_key_marking_itself_compromised_fails() -> None:
    chain, records, _ = start()
    chain.add(COMPROMISED, records, T0 + HOUR, kid=records.kid, compromised_from=format_time(T0))
    fails(chain, 1, f"key {records.kid} marks itself compromised")


def test_a_compromise_mark_by_another_key_stands_and_may_move_earlier() -> None:
    chain, records, _ = start()
    fresh = rotate(chain, records, T0 + HOUR)
    since = T0 + 30 * timedelta(minutes=1)
    chain.add(
        COMPROMISED, fresh, T0 + 2 * HOUR, kid=records.kid, compromised_from=format_time(since)
    )
    earlier = T0 + 10 * timedelta(minutes=1)
    chain.add(
        COMPROMISED, fresh, T0 + 3 * HOUR, kid=records.kid, compromised_from=format_time(earlier)
    )
    history = apply_all(chain)
    assert history.final().get(records.kid).compromised_from == earlier
    assert history.records == 5


@pytest.mark.parametrize("later", [timedelta(0), timedelta(minutes=5)])
def test_a_later_compromise_mark_that_is_not_earlier_fails(later: timedelta) -> None:
    chain, records, _ = start()
    fresh = rotate(chain, records, T0 + HOUR)
    since = T0 + timedelta(minutes=30)
    chain.add(
        COMPROMISED, fresh, T0 + 2 * HOUR, kid=records.kid, compromised_from=format_time(since)
    )
    chain.add(
        COMPROMISED,
        fresh,
        T0 + 3 * HOUR,
        kid=records.kid,
        compromised_from=format_time(since + later),
    )
    fails(
        chain,
        4,
        f"key {records.kid} is already compromised from {format_time(since)};"
        " a later mark may only move that earlier",
    )


def test_a_change_signed_by_a_key_compromised_before_it_fails() -> None:
    chain, records, _ = start()
    second = make_key("records", T0 + HOUR)
    chain.add(INTRODUCED, records, T0 + HOUR, key=second.public.to_json())
    since = T0 + 2 * HOUR
    chain.add(
        COMPROMISED, second, T0 + 3 * HOUR, kid=records.kid, compromised_from=format_time(since)
    )
    chain.add(
        INTRODUCED, records, T0 + 4 * HOUR, key=make_key("records", T0 + 4 * HOUR).public.to_json()
    )
    fails(
        chain,
        3,
        f"key change signed by a key not valid then: key {records.kid} is compromised from"
        f" {format_time(since)}",
    )


def test_a_key_history_record_outside_the_key_ring_stream_fails() -> None:
    chain, records, _ = start()
    chain.add(
        INTRODUCED,
        records,
        T0 + HOUR,
        stream="00000000-0000-5000-8000-000000000000",
        key=make_key("records", T0 + HOUR).public.to_json(),
    )
    fails(chain, 1, "keyring.key_introduced outside the key-ring stream")


def test_a_key_history_record_of_another_origin_fails() -> None:
    chain, records, _ = start()
    chain.add(
        INTRODUCED,
        records,
        T0 + HOUR,
        origin="impostor.test/log",
        key=make_key("records", T0 + HOUR).public.to_json(),
    )
    fails(chain, 1, "key-history record of origin impostor.test/log")


# -- the signer of every record --------------------------------------------------------------


def test_a_record_signed_by_a_key_not_yet_introduced_is_named() -> None:
    chain, records, checkpoints = start()
    history = apply_all(chain)
    later = make_key("records", T0 + HOUR)
    assert history.check_signer(1, records.kid) is None
    assert history.check_signer(1, later.kid) == (
        f"key {later.kid} was not introduced by the key history before this position"
    )
    assert history.check_signer(1, checkpoints.kid) == (
        f"key {checkpoints.kid} is a checkpoints key, not a records key"
    )
    chain.add(INTRODUCED, records, T0 + HOUR, key=later.public.to_json())
    history.apply(7, chain.records[-1])
    assert history.check_signer(8, later.kid) is None
    assert history.introduced[later.kid] == 7


# -- the shown key ring against the derived one ----------------------------------------------


def test_compare_names_the_key_and_the_member_that_differ() -> None:
    chain, records, checkpoints = start()
    fresh = rotate(chain, records, T0 + HOUR)
    derived = apply_all(chain).final()
    assert compare(derived, derived) is None

    widened = derived.with_keys(
        [
            PublicKey(k.kid, k.purpose, k.public_key, k.valid_from) if k.kid == records.kid else k
            for k in derived.keys
        ]
    )
    assert compare(widened, derived) == (
        f"key {records.kid}: the key ring says valid_until None,"
        f" the key-history records say {format_time(T0 + HOUR)}"
    )

    chain.add(COMPROMISED, fresh, T0 + 2 * HOUR, kid=records.kid, compromised_from=format_time(T0))
    marked = apply_all(chain)
    unmarked = marked.final().with_keys(
        [
            PublicKey(k.kid, k.purpose, k.public_key, k.valid_from, k.valid_until)
            for k in marked.final().keys
        ]
    )
    assert compare(unmarked, marked.final()) == (
        f"key {records.kid}: the key ring says compromised_from None,"
        f" the key-history records say {format_time(T0)}"
    )

    added = make_key("records", T0)
    padded = derived.with_keys([*derived.keys, added.public])
    assert compare(padded, derived) == (
        f"key {added.kid} of the key ring was not introduced by any key-history record"
    )
    missing = derived.with_keys([k for k in derived.keys if k.kid != checkpoints.kid])
    assert compare(missing, derived) == (
        f"key {checkpoints.kid}, introduced by the key history, is missing from the key ring"
    )
    assert compare(Keyring("impostor.test/log", derived.keys), derived) == (
        f"the key ring is of origin impostor.test/log, the records of {ORIGIN}"
    )
