"""An imported record's row (stream, version, type) is read from the end of its canonical bytes,
and agrees with the envelope scan; bytes of another shape go to the scan, which refuses them."""

from __future__ import annotations

from uuid import UUID

import pytest

from ledger.audit.importer import ImportError_, stored_event
from ledger.integrity.scan import scan

STREAM = "3f0c6b1e-9d2a-4c55-8a1b-6e2f4d7c9a10"


def record(payload: bytes, *, stream: str = STREAM, type_: str = "person.registered") -> bytes:
    return (
        b'{"format":1,"kid":"0123456789abcdef","origin":"ledger.example/log","payload":'
        + payload
        + b',"prev":null,"recorded_at":"2017-06-01T09:00:00.000000Z","sig":"c2lnbmF0dXJl"'
        + b',"stream":"'
        + stream.encode()
        + b'","type":"'
        + type_.encode()
        + b'","version":12}'
    )


def test_the_row_is_read_from_the_records_last_members_as_the_scan_reads_them() -> None:
    data = record(b'{"name":{"ciphertext":"x"},"region":"Cantabria"}')
    row, envelope = stored_event(data), scan(data)
    assert envelope is not None
    assert (row.originator_id, row.originator_version, row.topic, row.state) == (
        UUID(envelope.stream.decode()),
        envelope.version,
        envelope.type.decode(),
        data,
    )
    assert (row.originator_id, row.originator_version) == (UUID(STREAM), 12)


def test_a_payload_naming_a_stream_does_not_move_the_row() -> None:
    other = "00000000-0000-4000-8000-000000000000"
    payload = b'{"x":{"a":1,"stream":"' + other.encode() + b'","type":"t","version":1}}'
    row = stored_event(record(payload))
    assert (row.originator_id, row.topic) == (UUID(STREAM), "person.registered")


def test_bytes_of_another_shape_are_refused_by_the_scan() -> None:
    with pytest.raises(ImportError_, match="does not have the record's shape"):
        stored_event(b'{"stream":"' + STREAM.encode() + b'","version":1}')
