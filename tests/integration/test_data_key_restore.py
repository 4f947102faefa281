"""A data-key backup restored after an erasure never brings the erased person's key back:
neither into the ledger it was taken from, nor into a ledger restored from a bundle exported
after the erasure (whose key store has no row for anyone, so only the events say who was
erased). The people not erased get their names back. Both backends, through the real CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.domain.person import ERASED
from ledger.domain.values import NOT_AVAILABLE_HERE
from ledger.service import LedgerService
from ledger.store.application import open_store
from ledger.store.person_keys import PersonalDataUnavailable
from tests.builders import REGISTRAR
from tests.conftest import Ledger, new_pg_schema, pg_url
from tests.integration.test_audit_bundle import env_for, ledger_cli

KEPT = ("Odalys Fenwright", "odalys.fenwright@example.org", "Fenwright Cluster Agency")
ERASED_LATER = ("Bertil Quarrington", "bertil.quarrington@example.org", "Quarrington Tourism")


def restored_settings(ledger: Ledger, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """A fresh ledger beside the test's, with a copy of its keys folder (the KEK included)."""
    keys = tmp_path / "restored-keys"
    shutil.copytree(ledger.settings.keys_dir, keys)
    url = None
    if ledger.settings.database_url is not None:
        database = request.getfixturevalue("pg_database")
        url = pg_url(database, new_pg_schema(database))
    return Settings(
        data_dir=tmp_path / "restored-var",
        keys_dir=keys,
        database_url=url,
        origin=ledger.settings.origin,
    )


def test_a_backup_restored_after_an_erasure_does_not_bring_the_erased_key_back(
    ledger: Ledger, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    service = ledger.service
    kept = service.register_person(REGISTRAR, *KEPT, "Killarney", "Ireland").id
    erased = service.register_person(REGISTRAR, *ERASED_LATER, "Tralee", "Ireland").id
    env = env_for(ledger.settings)
    backup = tmp_path / "data-keys.backup"
    taken = ledger_cli("keys", "backup-data-keys", "--out", str(backup), env=env, cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    assert "wrote 2 data keys" in taken.stdout

    service.erase_person(REGISTRAR, erased, "request")

    # The ledger the backup was taken from: the erased row stays erased.
    again = ledger_cli("keys", "restore-data-keys", str(backup), env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "restored 0 data keys; skipped 1 " in again.stdout
    assert "1 already present" in again.stdout
    assert ledger.store.person_keys.key_for(erased) is None

    # A ledger restored from a bundle exported after the erasure: no key rows at all.
    exported = ledger_cli("export", str(tmp_path / "bundle"), env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    restored = restored_settings(ledger, tmp_path, request)
    restored_env = env_for(restored)
    imported = ledger_cli("import", str(tmp_path / "bundle"), env=restored_env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    store = open_store(restored)
    try:
        reader = LedgerService(store, store.person_keys, ledger.clock)
        assert reader.person(kept).name == NOT_AVAILABLE_HERE
        assert reader.person(erased).name == ERASED
    finally:
        store.close()

    done = ledger_cli("keys", "restore-data-keys", str(backup), env=restored_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "restored 1 data keys; skipped 1 of people erased since the backup" in done.stdout

    store = open_store(restored)
    try:
        with pytest.raises(PersonalDataUnavailable):
            store.person_keys.key_for(erased)
        reader = LedgerService(store, store.person_keys, ledger.clock)
        assert reader.person(kept).name == KEPT[0]
        assert reader.person(kept).email == KEPT[1]
        assert reader.person(erased).name == ERASED
    finally:
        store.close()
