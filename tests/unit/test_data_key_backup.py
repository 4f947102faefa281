"""The data-key backup file: what it holds (wrapped keys only, mode 0600), and the clear errors
for a file that is damaged, truncated, of another ledger or taken under another KEK. Each
broken file is named for its defect; none of them restores anything."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.store.key_backup import BackupError, check_backup, restore_backup, write_backup
from ledger.store.person_keys import PersonalDataUnavailable, SQLitePersonKeys

ORIGIN = "ledger.test/log"
TAKEN_AT = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
PEOPLE = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 6)]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[SQLitePersonKeys]:
    keys = SQLitePersonKeys(b"k" * 32, tmp_path / "source" / "person-keys.sqlite")
    for person in PEOPLE:
        keys.key_for(person, create=True)
    keys.destroy(PEOPLE[-1])  # erased before the backup: not in it
    yield keys
    keys.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[SQLitePersonKeys]:
    """A key store with the same KEK and no keys: a ledger restored from a bundle."""
    keys = SQLitePersonKeys(b"k" * 32, tmp_path / "fresh" / "person-keys.sqlite")
    yield keys
    keys.close()


@pytest.fixture
def backup(source: SQLitePersonKeys, tmp_path: Path) -> Path:
    path = tmp_path / "data-keys.backup"
    assert write_backup(source, ORIGIN, path, TAKEN_AT) == len(PEOPLE) - 1
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_the_backup_holds_every_key_still_held_wrapped_and_only_its_owner_may_read_it(
    source: SQLitePersonKeys, backup: Path
) -> None:
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    header = check_backup(backup)
    assert (header.origin, header.count, header.kek) == (ORIGIN, 4, source.kek_fingerprint)
    assert header.taken_at == "2025-03-14T02:00:00Z"
    data = backup.read_bytes()
    for person in PEOPLE[:-1]:
        key = source.key_for(person)
        assert key is not None
        assert key not in data
        assert base64.b64encode(key) not in data
    assert PEOPLE[-1].encode() not in data  # the erased person's key no longer exists
    assert b"k" * 32 not in data
    assert base64.b64encode(b"k" * 32) not in data


def test_a_restore_into_a_ledger_without_keys_makes_personal_data_readable_again(
    source: SQLitePersonKeys, fresh: SQLitePersonKeys, backup: Path
) -> None:
    with pytest.raises(PersonalDataUnavailable):
        fresh.key_for(PEOPLE[0])
    summary = restore_backup(fresh, ORIGIN, backup, erased=set())
    assert (summary.restored, summary.skipped_erased, summary.already_present) == (4, 0, 0)
    for person in PEOPLE[:-1]:
        assert fresh.key_for(person) == source.key_for(person)
    again = restore_backup(fresh, ORIGIN, backup, erased=set())
    assert (again.restored, again.skipped_erased, again.already_present) == (0, 0, 4)


def test_a_person_erased_since_the_backup_is_skipped_not_restored(
    fresh: SQLitePersonKeys, backup: Path
) -> None:
    summary = restore_backup(fresh, ORIGIN, backup, erased={PEOPLE[0]})
    assert (summary.restored, summary.skipped_erased) == (3, 1)
    with pytest.raises(PersonalDataUnavailable):
        fresh.key_for(PEOPLE[0])


def test_a_key_store_row_erased_after_the_backup_stays_erased(
    source: SQLitePersonKeys, backup: Path
) -> None:
    source.destroy(PEOPLE[1])
    summary = restore_backup(source, ORIGIN, backup, erased=set())
    assert (summary.restored, summary.skipped_erased, summary.already_present) == (0, 1, 3)
    assert source.key_for(PEOPLE[1]) is None


def test_backup_with_a_changed_byte_fails_its_checksum(
    fresh: SQLitePersonKeys, backup: Path
) -> None:
    rows = lines(backup)
    entry = json.loads(rows[1])
    wrapped = bytearray(base64.b64decode(entry["wrapped"]))
    wrapped[-1] ^= 1
    entry["wrapped"] = base64.b64encode(bytes(wrapped)).decode()
    rows[1] = json.dumps(entry, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    backup.write_bytes(b"".join(rows))
    with pytest.raises(BackupError, match="checksum does not match"):
        restore_backup(fresh, ORIGIN, backup, erased=set())
    assert fresh.count_held() == 0


def test_backup_cut_inside_a_line_is_reported_truncated(
    fresh: SQLitePersonKeys, backup: Path
) -> None:
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError, match="truncated"):
        restore_backup(fresh, ORIGIN, backup, erased=set())
    assert fresh.count_held() == 0


def test_backup_cut_between_lines_says_how_many_keys_it_holds(
    fresh: SQLitePersonKeys, backup: Path
) -> None:
    backup.write_bytes(b"".join(lines(backup)[:3]))
    with pytest.raises(BackupError, match=r"ends early after 2 of 4 keys.*truncated"):
        restore_backup(fresh, ORIGIN, backup, erased=set())
    assert fresh.count_held() == 0


def test_backup_taken_under_another_kek_names_both_fingerprints(
    backup: Path, tmp_path: Path
) -> None:
    other = SQLitePersonKeys(b"o" * 32, tmp_path / "other" / "person-keys.sqlite")
    try:
        with pytest.raises(BackupError, match="key-encryption key") as refused:
            restore_backup(other, ORIGIN, backup, erased=set())
        assert other.kek_fingerprint in str(refused.value)
        assert check_backup(backup).kek in str(refused.value)
        assert other.count_held() == 0
    finally:
        other.close()


def test_backup_of_another_ledger_is_refused(fresh: SQLitePersonKeys, backup: Path) -> None:
    with pytest.raises(BackupError, match="ledger 'ledger.test/log'; this ledger is 'elsewhere"):
        restore_backup(fresh, "elsewhere.example/log", backup, erased=set())


def test_backup_whose_count_disagrees_with_its_entries_is_refused(
    fresh: SQLitePersonKeys, backup: Path
) -> None:
    rows = lines(backup)[:-1]
    del rows[1]
    body = b"".join(rows)
    trailer = json.dumps({"sha256": hashlib.sha256(body).hexdigest()}).encode() + b"\n"
    backup.write_bytes(body + trailer)
    with pytest.raises(BackupError, match="header says 4 keys, the file holds 3"):
        restore_backup(fresh, ORIGIN, backup, erased=set())


@pytest.mark.parametrize(
    ("defect", "content", "message"),
    [
        ("empty", b"", "is empty"),
        ("not-json", b"PK\x03\x04 zip\n", "not JSON"),
        ("another-format", b'{"format": "something-else"}\n', "not a data-key backup"),
        ("future-version", b'{"format": "ledger-data-keys", "version": 2}\n', "version 2"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(
    fresh: SQLitePersonKeys, tmp_path: Path, defect: str, content: bytes, message: str
) -> None:
    path = tmp_path / f"{defect}.backup"
    path.write_bytes(content)
    with pytest.raises(BackupError, match=message):
        restore_backup(fresh, ORIGIN, path, erased=set())


def test_a_missing_file_is_a_clear_error(fresh: SQLitePersonKeys, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="cannot read"):
        restore_backup(fresh, ORIGIN, tmp_path / "absent.backup", erased=set())


def test_writing_replaces_an_older_backup_and_leaves_no_partial_file(
    source: SQLitePersonKeys, backup: Path
) -> None:
    os.chmod(backup, 0o644)
    write_backup(source, ORIGIN, backup, TAKEN_AT)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert sorted(p.name for p in backup.parent.iterdir()) == ["data-keys.backup", "source"]


def test_keys_for_many_people_answers_as_key_for_does_each(source: SQLitePersonKeys) -> None:
    newcomer = "00000000-0000-4000-8000-000000000099"
    held, erased = PEOPLE[0], PEOPLE[-1]
    keys = source.keys_for({held: False, erased: False, newcomer: True})
    assert keys == {held: source.key_for(held), erased: None, newcomer: source.key_for(newcomer)}
    assert keys[newcomer] is not None
    assert len(keys[newcomer] or b"") == 32
    with pytest.raises(PersonalDataUnavailable):  # no key held, and not asked to make one
        source.keys_for({held: False, "00000000-0000-4000-8000-000000000098": False})
