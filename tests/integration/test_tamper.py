"""Edits made directly in the database are detected on read, naming stream and version."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.domain.certificates import certificate_stream
from ledger.integrity.canonical import canonical_bytes
from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.keyring import key_id
from tests.builders import COMMITTEE, licensed
from tests.conftest import Ledger
from tests.rawsql import RawEvents


@pytest.fixture
def licence(ledger: Ledger) -> str:
    """A licence stream of four records: granted, suspended, reinstated, scope reduced."""
    service = ledger.service
    _, licence_id = licensed(service)
    service.suspend_licence(COMMITTEE, licence_id, "audit", date(2015, 4, 10), on=date(2015, 1, 10))
    service.reinstate_licence(COMMITTEE, licence_id, on=date(2015, 2, 1))
    service.reduce_scope(
        COMMITTEE, licence_id, ["Cantabria"], ["es"], "region left", on=date(2015, 3, 1)
    )
    assert service.licence(licence_id).version == 4
    return licence_id


def reopen_and_read(ledger: Ledger, licence_id: str) -> None:
    """Read through a fresh store, as another process would (no cached digests)."""
    from ledger.service import LedgerService
    from ledger.store.application import open_store

    store = open_store(ledger.settings)
    try:
        LedgerService(store, store.person_keys, ledger.clock).licence(licence_id)
    finally:
        store.close()


def detected(ledger: Ledger, licence_id: str, version: int, reason: str) -> None:
    stream = str(certificate_stream(licence_id))
    with pytest.raises(RecordIntegrityError, match=reason) as caught:
        reopen_and_read(ledger, licence_id)
    assert (caught.value.stream, caught.value.version) == (stream, version)
    assert f"stream {stream} version {version}" in str(caught.value)


def test_untouched_ledger_reads_cleanly(ledger: Ledger, licence: str) -> None:
    reopen_and_read(ledger, licence)


def test_one_byte_of_a_payload_changed_is_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    state = raw.state(stream, 2)
    assert b'"until":"2015-04-10"' in state  # the reason is encrypted: change the date
    raw.set_state(stream, 2, state.replace(b'"until":"2015-04-10"', b'"until":"2015-04-11"'))
    detected(ledger, licence, 2, "does not match the digest that version 3 names")


def test_a_byte_flip_that_breaks_the_encoding_is_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    state = bytearray(raw.state(stream, 3))
    state[0] ^= 0x01
    raw.set_state(stream, 3, bytes(state))
    detected(ledger, licence, 3, "stored bytes are not a record")


def test_a_changed_payload_of_the_newest_record_fails_its_signature(
    ledger: Ledger, licence: str
) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    state = raw.state(stream, 4)
    assert b'"Cantabria"' in state  # the reason is encrypted: change the scope
    raw.set_state(stream, 4, state.replace(b'"Cantabria"', b'"CantabriA"'))
    detected(ledger, licence, 4, "signature does not verify")


def test_a_changed_event_type_is_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    raw.set_topic(stream, 2, "certificate.licence_revoked")
    detected(ledger, licence, 2, "record is a certificate.licence_suspended, stored as")


def test_a_changed_version_is_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    raw.set_version(stream, 4, 5)
    detected(ledger, licence, 5, "record is version 4, stored as version 5")


def test_two_swapped_payloads_are_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    second, third = raw.state(stream, 2), raw.state(stream, 3)
    raw.set_state(stream, 2, third)
    raw.set_state(stream, 3, second)
    detected(ledger, licence, 2, "record is version 3, stored as version 2")


def test_a_deleted_middle_event_is_detected(ledger: Ledger, licence: str) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    raw.delete(stream, 2)
    detected(ledger, licence, 2, "record is missing")


@pytest.mark.parametrize("version", [2, 4])
def test_an_event_re_signed_with_an_unknown_key_is_detected(
    ledger: Ledger, licence: str, version: int
) -> None:
    raw, stream = RawEvents(ledger.settings), certificate_stream(licence)
    members = json.loads(raw.state(stream, version))
    del members["sig"]
    rogue = Ed25519PrivateKey.generate()
    members["kid"] = key_id(rogue.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    signature = rogue.sign(canonical_bytes(members))
    members["sig"] = base64.b64encode(signature).decode()
    raw.set_state(stream, version, canonical_bytes(members))
    detected(ledger, licence, version, f"key {members['kid']} is not in the key ring")
