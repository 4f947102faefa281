"""Rotation keeps old signatures valid; a compromised key's later signatures fail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ledger.domain.certificates import certificate_stream
from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.keyring import KeyDirectory, mark_compromised, rotate_key
from ledger.service import LedgerService
from ledger.store.application import open_store
from tests.builders import COMMITTEE, licensed
from tests.conftest import Ledger


def read_licence(ledger: Ledger, licence_id: str) -> object:
    store = open_store(ledger.settings, verify_all=True)
    try:
        return LedgerService(store, store.person_keys, ledger.clock).licence(licence_id)
    finally:
        store.close()


def test_records_signed_before_rotation_still_verify_after_it(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    keys = KeyDirectory(ledger.settings.keys_dir)
    old_kid = keys.load().current("records", ledger.clock.now()).kid
    ledger.clock.advance(timedelta(hours=1))
    fresh = rotate_key(keys, "records", ledger.clock.now())
    ledger.store.signing.reload()
    ledger.clock.advance(timedelta(hours=1))
    ledger.service.suspend_licence(
        COMMITTEE, licence_id, "audit", date(2015, 2, 1), on=date(2015, 1, 10)
    )

    kids = [r.record.kid for r in _records(ledger, licence_id)]
    assert kids == [old_kid, fresh.kid]
    licence = read_licence(ledger, licence_id)
    assert licence.version == 2  # type: ignore[attr-defined]


def test_a_signature_made_after_the_compromise_time_fails(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    keys = KeyDirectory(ledger.settings.keys_dir)
    kid = keys.load().current("records", ledger.clock.now()).kid
    compromised_from = ledger.clock.now() + timedelta(minutes=30)
    ledger.clock.advance(timedelta(hours=1))
    ledger.service.suspend_licence(
        COMMITTEE, licence_id, "forged", date(2015, 2, 1), on=date(2015, 1, 10)
    )

    mark_compromised(keys, kid, compromised_from)
    stream = str(certificate_stream(licence_id))
    with pytest.raises(RecordIntegrityError, match=f"key {kid} is compromised from") as caught:
        read_licence(ledger, licence_id)
    assert (caught.value.stream, caught.value.version) == (stream, 2)


def test_signatures_made_before_the_compromise_time_still_verify(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    keys = KeyDirectory(ledger.settings.keys_dir)
    kid = keys.load().current("records", ledger.clock.now()).kid
    mark_compromised(keys, kid, ledger.clock.now() + timedelta(seconds=1))
    assert read_licence(ledger, licence_id).version == 1  # type: ignore[attr-defined]


def _records(ledger: Ledger, licence_id: str) -> list:  # type: ignore[type-arg]
    app = ledger.store.app
    mapper = app.mapper
    rows = app.recorder.select_events(certificate_stream(licence_id))
    return [mapper.open_stored(row) for row in rows]  # type: ignore[attr-defined]
