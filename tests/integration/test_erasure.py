"""Erasure destroys the person's key: reads show a marker, signatures and chains still verify,
and no copy of the person's data or key is left in the database files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import UUID

import psycopg

from ledger.config import parse_database_url
from ledger.domain.person import ERASED
from ledger.service import LedgerService
from ledger.store.application import open_store
from tests.builders import REGISTRAR
from tests.conftest import Ledger
from tests.dumps import schema_dump

NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.quillfeather@example.org"
ORGANISATION = "Quillfeather Regional Development Agency"


def wrapped_key(ledger: Ledger, person: str) -> bytes | None:
    settings = ledger.settings
    if settings.database_url is None:
        with sqlite3.connect(settings.data_dir / "person-keys.sqlite") as conn:
            row = conn.execute(
                "SELECT wrapped FROM person_keys WHERE person = ?", (person,)
            ).fetchone()
    else:
        target = parse_database_url(settings.database_url)
        with psycopg.connect(target.conninfo()) as conn:
            row = conn.execute(
                f'SELECT wrapped FROM "{target.schema}".ledger_person_keys WHERE person = %s',
                (person,),
            ).fetchone()
    return None if row[0] is None else bytes(row[0])


def holds(blob: bytes, data: bytes) -> bool:
    """`data` appears raw (SQLite files) or as the hex text a dump writes for bytea."""
    return data in blob or data.hex().encode() in blob


def database_bytes(ledger: Ledger) -> bytes:
    """Every byte the database holds: the SQLite files, or a full PostgreSQL dump."""
    settings = ledger.settings
    if settings.database_url is None:
        return b"".join(
            p.read_bytes() for p in sorted(Path(settings.data_dir).glob("*")) if p.is_file()
        )
    return schema_dump(settings.database_url, data_only=True)


def test_erasure_leaves_a_verifiable_history_without_personal_data(ledger: Ledger) -> None:
    service = ledger.service
    person = service.register_person(
        REGISTRAR, NAME, EMAIL, ORGANISATION, "Killarney", "Ireland"
    ).id
    service.record_course(REGISTRAR, person, ledger.clock.now().date(), "Killarney", 9)
    assert service.person(person).name == NAME
    key = wrapped_key(ledger, person)
    assert key is not None
    assert holds(database_bytes(ledger), key)

    service.erase_person(REGISTRAR, person, "request")

    store = open_store(ledger.settings, verify_all=True)
    try:
        erased = LedgerService(store, store.person_keys, ledger.clock).person(person)
        assert (erased.name, erased.email, erased.organisation) == (ERASED, ERASED, ERASED)
        assert erased.erased
        assert erased.version == 3
        assert (erased.region, len(erased.deliveries)) == ("Killarney", 1)
        events = list(store.app.events.get(UUID(person)))  # every signature checked
        assert [e.originator_version for e in events] == [1, 2, 3]
    finally:
        store.close()

    assert wrapped_key(ledger, person) is None
    everything = database_bytes(ledger)
    for secret in (NAME, EMAIL, ORGANISATION):
        assert not holds(everything, secret.encode())
    assert not holds(everything, key)


def test_the_database_holds_personal_data_only_encrypted(ledger: Ledger) -> None:
    ledger.service.register_person(REGISTRAR, NAME, EMAIL, ORGANISATION, "Killarney", "Ireland")
    everything = database_bytes(ledger)
    assert holds(everything, b"Killarney")  # the search does find what is stored in clear
    for secret in (NAME, EMAIL, ORGANISATION):
        assert not holds(everything, secret.encode())
