"""The key ring on disk: private keys 0600, ids checked, the CLI (rotation is in the log)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.integrity.errors import KeyringError
from ledger.integrity.keyring import KeyDirectory, init_keyring

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def test_init_writes_private_keys_readable_by_the_owner_only(tmp_path: Path) -> None:
    keys = KeyDirectory(tmp_path / "keys")
    keyring = init_keyring(keys, "ledger.test/log", T0)
    assert {k.purpose for k in keyring.keys} == {"records", "checkpoints"}
    for path in (tmp_path / "keys" / "private").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys" / "private").stat().st_mode) == 0o700
    public = (tmp_path / "keys" / "keyring.json").read_text()
    assert "PRIVATE" not in public
    assert "BEGIN" not in public


def test_the_gitignore_keeps_private_keys_out_of_the_repository() -> None:
    lines = (Path(__file__).resolve().parents[2] / "keys" / ".gitignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert all(rule.startswith("!") and "private" not in rule for rule in rules[1:])


def test_a_tampered_key_ring_entry_is_refused(tmp_path: Path) -> None:
    keys = KeyDirectory(tmp_path)
    init_keyring(keys, "ledger.test/log", T0)
    text = keys.keyring_path.read_text()
    kid = keys.load().keys[0].kid
    keys.keyring_path.write_text(text.replace(kid, "0" * 16))
    with pytest.raises(KeyringError, match="id does not match its public key"):
        keys.load()


def test_cli_keys_init_rotate_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    folder = str(tmp_path / "k")
    assert main(["keys", "--keys-dir", folder, "init", "--origin", "ledger.test/log"]) == 0
    assert main(["keys", "--keys-dir", folder, "init"]) == 1
    assert main(["keys", "--keys-dir", folder, "init", "--if-missing"]) == 0
    assert main(["keys", "--keys-dir", folder, "rotate"]) == 0
    capsys.readouterr()
    assert main(["keys", "--keys-dir", folder, "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("records") == 2
    assert listing.count("checkpoints") == 1
    assert main(["keys", "--keys-dir", folder, "compromise", "nosuchkey"]) == 1
    assert "not in the key ring" in capsys.readouterr().err
