"""Rotation keeps old signatures valid; a compromised key's later signatures fail.

Both are key-history records in the log (rotation signed by the key it retires, a compromise
mark by another key); every process derives its key ring from them.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.domain.certificates import certificate_stream
from ledger.integrity.errors import KeyringError, RecordIntegrityError
from ledger.integrity.key_history import KEYRING_STREAM
from ledger.integrity.keyring import KeyDirectory, new_key
from ledger.runtime import open_runtime
from ledger.service import LedgerService
from ledger.store.application import open_store
from ledger.store.key_history import compromise, read_history, rotate
from tests.builders import COMMITTEE, licensed, qualified
from tests.conftest import Ledger
from tests.trust_support import cli, ok, settings_env


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
    fresh = rotate(ledger.store, keys, "records", ledger.clock.now())
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

    ledger.clock.advance(timedelta(minutes=1))
    rotate(ledger.store, keys, "records", ledger.clock.now())
    compromise(ledger.store, keys, kid, compromised_from, ledger.clock.now())
    stream = str(certificate_stream(licence_id))
    with pytest.raises(RecordIntegrityError, match=f"key {kid} is compromised from") as caught:
        read_licence(ledger, licence_id)
    assert (caught.value.stream, caught.value.version) == (stream, 2)


def test_signatures_made_before_the_compromise_time_still_verify(ledger: Ledger) -> None:
    _, licence_id = licensed(ledger.service)
    keys = KeyDirectory(ledger.settings.keys_dir)
    kid = keys.load().current("records", ledger.clock.now()).kid
    ledger.clock.advance(timedelta(seconds=1))
    rotate(ledger.store, keys, "records", ledger.clock.now())
    compromise(ledger.store, keys, kid, ledger.clock.now(), ledger.clock.now())
    assert read_licence(ledger, licence_id).version == 1  # type: ignore[attr-defined]


def test_rotation_and_compromise_are_signed_records_that_every_store_derives(
    ledger: Ledger,
) -> None:
    keys = KeyDirectory(ledger.settings.keys_dir)
    old = keys.load().current("records", ledger.clock.now())
    ledger.clock.advance(timedelta(hours=1))
    fresh = rotate(ledger.store, keys, "records", ledger.clock.now())
    ledger.clock.advance(timedelta(hours=1))
    compromise(ledger.store, keys, old.kid, ledger.clock.now(), ledger.clock.now())

    history = read_history(ledger.store.app, ledger.settings.origin)
    assert history.records == 4  # genesis, introduced, retired, compromised
    derived = history.final()
    assert derived.get(old.kid).compromised_from == ledger.clock.now()
    assert derived.get(fresh.kid).valid_from == ledger.clock.now() - timedelta(hours=1)
    # A second store on the same database derives the same ring, whatever keyring.json says.
    keys.keyring_path.write_text(keys.keyring_path.read_text().replace(old.kid, fresh.kid, 0))
    other = open_store(ledger.settings)
    try:
        assert other.signing.keyring == derived
    finally:
        other.close()


def test_a_key_cannot_mark_itself_compromised(ledger: Ledger) -> None:
    keys = KeyDirectory(ledger.settings.keys_dir)
    current = keys.load().current("records", ledger.clock.now())
    with pytest.raises(KeyringError, match="cannot mark itself compromised"):
        compromise(ledger.store, keys, current.kid, ledger.clock.now(), ledger.clock.now())


def test_a_key_added_to_keyring_json_by_hand_is_not_trusted(ledger: Ledger) -> None:
    keys = KeyDirectory(ledger.settings.keys_dir)
    ring = keys.load()
    forged = new_key(keys, "records", ledger.clock.now())
    keys.save(ring.with_keys([*ring.keys, forged]))
    other = open_store(ledger.settings)
    try:
        assert forged.kid not in {k.kid for k in other.signing.keyring.keys}
        assert forged.kid not in keys.keyring_path.read_text()  # the view was rewritten
    finally:
        other.close()


def _records(ledger: Ledger, licence_id: str) -> list:  # type: ignore[type-arg]
    app = ledger.store.app
    mapper = app.mapper
    rows = app.recorder.select_events(certificate_stream(licence_id))
    return [mapper.open_stored(row) for row in rows]  # type: ignore[attr-defined]


def _write_records(settings: Settings, *, licence: bool) -> None:
    """A qualification's (or a licence's) history, recorded now by a process of its own."""
    runtime = open_runtime(settings)
    try:
        (licensed if licence else qualified)(runtime.service)
    finally:
        runtime.close()


def test_rotation_and_compromise_through_the_command_line_audit_against_the_trust_root(
    settings: Settings, tmp_path: Path
) -> None:
    env = settings_env(settings)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return ok(cli(*args, env=env, cwd=tmp_path))

    _write_records(settings, licence=True)
    old = KeyDirectory(settings.keys_dir).load().current("records", datetime.now(UTC)).kid
    rotated = run("keys", "rotate")
    fresh = rotated.stdout.split("new records key ", 1)[1].split(",", 1)[0]
    _write_records(settings, licence=False)
    listed = {k["kid"]: k for k in json.loads(run("keys", "list", "--json").stdout)["keys"]}
    since = listed[old]["valid_until"]  # the rotation's moment: nothing old is signed after it
    assert listed[fresh]["valid_from"] == since
    run("keys", "compromise", old, "--since", since)
    (tmp_path / "trust-root.json").write_text(run("trust-root").stdout)
    run("export", "bundle")

    lines = (tmp_path / "bundle" / "records.jsonl").read_text().splitlines()
    signed = [json.loads(line) for line in lines]
    history = [r for r in signed if r["stream"] == KEYRING_STREAM]
    assert [r["type"] for r in history] == [
        "keyring.genesis",
        "keyring.key_introduced",
        "keyring.key_retired",
        "keyring.key_compromised",
    ]
    assert [r["kid"] for r in history] == [old, old, old, fresh]
    by_new = [
        i for i, r in enumerate(signed) if r["kid"] == fresh and r["stream"] != KEYRING_STREAM
    ]
    assert by_new  # the records written after the rotation are signed by the new key
    assert all(r["kid"] == old for r in signed[: min(by_new)])

    passed = cli("audit", "bundle", "--trust", "trust-root.json", env=env, cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    head = passed.stdout.splitlines()[0]
    assert head.startswith(f"PASS: {len(lines):,} records in ")
    assert ", 4 key-history records (3 keys);" in head

    # A mark moved earlier, into the old key's working life: its later records are reported.
    position = next(i for i, r in enumerate(signed) if r["stream"] != KEYRING_STREAM) + 5
    assert position < min(by_new) - 2  # before the two records of the rotation
    earlier = signed[position]["recorded_at"]
    run("keys", "compromise", old, "--since", earlier)
    run("export", "again")
    failed = cli("audit", "again", "--trust", "trust-root.json", env=env, cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    first_bad = next(
        i for i, r in enumerate(signed) if r["kid"] == old and r["recorded_at"] >= earlier
    )
    assert failed.stdout.splitlines()[0].startswith(
        f"FAIL at log position {first_bad}: key {old} is compromised from {earlier};"
        f" record made at {signed[first_bad]['recorded_at']}"
    )
