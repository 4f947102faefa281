"""deploy/backup-bundle.sh with LEDGER_DATA_KEYS_DIR: the nightly job also writes the data-key
backup (wrapped keys, mode 0600, in a folder of its own) and keeps only the newest few. Run
with the real `ledger` command on a real SQLite ledger."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from ledger.store.key_backup import check_backup
from tests.deploy.support import DEPLOY, ROOT

OLD = ("data-keys-20200101T000000Z.backup", "data-keys-20210101T000000Z.backup")


def test_the_nightly_job_backs_up_the_data_keys_apart_and_prunes_the_oldest(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "ledger"
    ledger.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ledger "$@"\n')
    ledger.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_BIN=str(ledger),
        LEDGER_DATA_DIR=str(tmp_path / "var"),
        LEDGER_KEYS_DIR=str(tmp_path / "keys"),
        LEDGER_BUNDLE_KEEP="2",
        LEDGER_DATA_KEYS_DIR=str(tmp_path / "data-keys"),
        PYTHONPATH=str(ROOT),
    )
    for args in (["keys", "init"], ["demo"]):
        done = subprocess.run([str(ledger), *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    (tmp_path / "data-keys").mkdir()
    for name in OLD:
        (tmp_path / "data-keys" / name).write_text("old\n")

    result = subprocess.run(
        [str(DEPLOY / "backup-bundle.sh"), str(tmp_path / "bundles")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in (tmp_path / "data-keys").iterdir())
    assert len(kept) == 2
    assert kept[0] == OLD[1]
    newest = tmp_path / "data-keys" / kept[1]
    assert f"wrote {newest}" in result.stdout
    assert stat.S_IMODE(newest.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data-keys").stat().st_mode) == 0o700
    assert check_backup(newest).count > 10  # the demo's people, less the one erased
    assert any(p.name.startswith("bundle-") for p in (tmp_path / "bundles").iterdir())
