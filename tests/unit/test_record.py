"""The signed record: exact bytes, digest, signature, and the checks made when reading it."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from ledger.integrity.canonical import CanonicalError, canonical_bytes
from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.keyring import Keyring, PublicKey, Signer, format_time, key_id
from ledger.integrity.record import Record, check_link, open_record, seal, verify_signature

SEED = bytes(range(32))
PRIVATE = Ed25519PrivateKey.from_private_bytes(SEED)
PUBLIC = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KID = key_id(PUBLIC)
SIGNER = Signer(KID, PRIVATE)
SINCE = datetime(2012, 1, 1, tzinfo=UTC)
KEYRING = Keyring("ledger.test/log", (PublicKey(KID, "records", PUBLIC, SINCE),))
STREAM = "6f9619ff-8b86-4011-b42d-00c04fc964ff"


def record(version: int = 1, prev: str | None = None, **payload: object) -> Record:
    return Record(
        origin="ledger.test/log",
        stream=STREAM,
        version=version,
        type="person.course_delivered",
        recorded_at=datetime(2014, 2, 1, 10, 0, 0, 123456, tzinfo=UTC),
        payload={"region": "Cantabria", "participants": 14, **payload},
        prev=prev,
        kid=KID,
    )


def test_stored_bytes_are_the_canonical_members_plus_the_signature() -> None:
    signed = seal(record(), SIGNER)
    members = json.loads(signed.data)
    assert list(members) == sorted(members)
    assert members["recorded_at"] == "2014-02-01T10:00:00.123456Z"
    signature = base64.b64decode(members.pop("sig"))
    message = json.dumps(
        members, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    PRIVATE.public_key().verify(signature, message)
    assert signed.digest == hashlib.sha256(b"\x00" + signed.data).hexdigest()


def test_a_sealed_record_opens_and_verifies() -> None:
    signed = seal(record(), SIGNER)
    opened = open_record(signed.data, STREAM, 1)
    assert opened.record == signed.record
    verify_signature(opened, KEYRING)


def test_signing_is_deterministic() -> None:
    assert seal(record(), SIGNER).data == seal(record(), SIGNER).data


def test_a_record_stored_under_another_version_is_refused() -> None:
    signed = seal(record(version=2, prev="00" * 32), SIGNER)
    with pytest.raises(RecordIntegrityError, match="record is version 2, stored as version 3"):
        open_record(signed.data, STREAM, 3)


def test_a_record_stored_under_another_stream_is_refused() -> None:
    signed = seal(record(), SIGNER)
    other = "00000000-0000-0000-0000-000000000001"
    with pytest.raises(RecordIntegrityError, match=f"belongs to stream {STREAM}"):
        open_record(signed.data, other, 1)


def test_an_extra_member_is_refused() -> None:
    members = json.loads(seal(record(), SIGNER).data)
    members["note"] = "x"
    data = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(RecordIntegrityError, match=r"unexpected \['note'\]"):
        open_record(data, STREAM, 1)


def test_a_changed_payload_fails_the_signature() -> None:
    signed = seal(record(), SIGNER)
    forged = open_record(signed.data.replace(b"Cantabria", b"Asturias!"), STREAM, 1)
    with pytest.raises(RecordIntegrityError, match=f"signature does not verify under key {KID}"):
        verify_signature(forged, KEYRING)


def test_a_signature_before_the_key_was_valid_fails() -> None:
    late = Keyring(
        "ledger.test/log", (PublicKey(KID, "records", PUBLIC, datetime(2015, 1, 1, tzinfo=UTC)),)
    )
    with pytest.raises(RecordIntegrityError, match="is valid from 2015-01-01"):
        verify_signature(seal(record(), SIGNER), late)


def test_the_chain_link_names_the_record_that_does_not_match() -> None:
    first = seal(record(), SIGNER)
    second = seal(record(version=2, prev=first.digest), SIGNER)
    check_link(second, first.digest)
    with pytest.raises(
        RecordIntegrityError,
        match="version 1: record does not match the digest that version 2 names",
    ):
        check_link(second, "ab" * 32)
    with pytest.raises(RecordIntegrityError, match="first record of a stream must have prev null"):
        check_link(seal(record(prev="ab" * 32), SIGNER), None)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(
    origin=_TEXT,
    stream=_TEXT,
    version=st.integers(1, 2**53 - 1),
    type_name=_TEXT,
    moment=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7))])),
    payload=st.dictionaries(st.text(max_size=8).filter(str.isascii), _VALUES, max_size=4),
    prev=st.none() | _TEXT,
    kid=_TEXT,
)
def test_the_signed_bytes_are_the_canonical_bytes_of_the_members(
    origin: str,
    stream: str,
    version: int,
    type_name: str,
    moment: datetime,
    payload: dict[str, object],
    prev: str | None,
    kid: str,
) -> None:
    written = Record(origin, stream, version, type_name, moment, payload, prev, kid)
    assert written.message() == canonical_bytes(written.members())
    assert format_time(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_record_whose_members_are_not_of_a_records_types_is_written_canonically() -> None:
    odd = Record("o", STREAM, True, "t", SINCE, {"a": 1}, None, KID)  # type: ignore[arg-type]
    assert odd.message() == canonical_bytes(odd.members())
    assert b'"version":true' in odd.message()
    with pytest.raises(CanonicalError, match="lone surrogate"):
        Record("o", STREAM, 1, "t\ud800", SINCE, {}, None, KID).message()
