"""The shell scripts in deploy/: shellcheck, the image's secret-file wrapper, the bundle backup."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, tool

SCRIPTS = sorted(DEPLOY.glob("*.sh"))


def test_there_are_scripts_to_check() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"local-stack.sh", "ledger-env.sh", "backup-bundle.sh"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_finds_nothing(script: Path) -> None:
    shellcheck = tool("shellcheck")
    result = subprocess.run(
        [shellcheck, "--severity=style", "--format=gcc", str(script)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_really_runs(tmp_path: Path) -> None:
    shellcheck = tool("shellcheck")
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\nrm -rf $1/*\n")
    result = subprocess.run([shellcheck, str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "SC2086" in result.stdout


def _wrapper(tmp_path: Path) -> Path:
    """deploy/ledger-env.sh with the real ledger replaced by a stub that shows what it got."""
    stub = tmp_path / "real-ledger"
    stub.write_text(
        '#!/bin/sh\necho "url=${LEDGER_DATABASE_URL:-}"\n'
        'echo "file=${LEDGER_DATABASE_URL_FILE:-}"\necho "args=$*"\n'
    )
    stub.chmod(0o755)
    text = (DEPLOY / "ledger-env.sh").read_text()
    assert "/opt/ledger/bin/ledger" in text
    wrapper = tmp_path / "ledger"
    wrapper.write_text(text.replace("/opt/ledger/bin/ledger", str(stub)))
    wrapper.chmod(0o755)
    return wrapper


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(extra)
    return env


def test_wrapper_reads_the_database_url_from_the_mounted_file(tmp_path: Path) -> None:
    secret = tmp_path / "database_url"
    secret.write_text("postgresql://ledger:s3cret@db:5432/ledger\n")
    result = subprocess.run(
        [str(_wrapper(tmp_path)), "token", "create", "--name", "ops"],
        env=_clean_env(LEDGER_DATABASE_URL_FILE=str(secret)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "url=postgresql://ledger:s3cret@db:5432/ledger",
        "file=",
        "args=token create --name ops",
    ]


def test_wrapper_without_a_file_passes_the_environment_through(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(_wrapper(tmp_path)), "worker"],
        env=_clean_env(LEDGER_DATABASE_URL="postgresql://db/ledger"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "url=postgresql://db/ledger"


def test_wrapper_refuses_an_unreadable_file_without_echoing_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(_wrapper(tmp_path)), "serve"],
        env=_clean_env(LEDGER_DATABASE_URL_FILE=str(tmp_path / "missing")),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "url=" not in result.stdout
    assert "cannot be read" in result.stderr
    assert "missing" not in result.stderr


def _fake_ledger(tmp_path: Path, audit_exit: int) -> Path:
    """A stand-in for `ledger export DIR` / `ledger audit DIR`."""
    fake = tmp_path / "fake-ledger"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = export ]; then mkdir -p "$2" && echo records > "$2/records"; exit 0; fi\n'
        f'if [ "$1" = audit ]; then echo "audit of $2"; exit {audit_exit}; fi\n'
        "exit 9\n"
    )
    fake.chmod(0o755)
    return fake


def _backup(
    tmp_path: Path, folder: Path, audit_exit: int = 0, keep: str = "2"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEPLOY / "backup-bundle.sh"), str(folder)],
        env=_clean_env(LEDGER_BIN=str(_fake_ledger(tmp_path, audit_exit)), LEDGER_BUNDLE_KEEP=keep),
        capture_output=True,
        text=True,
    )


def test_backup_keeps_an_audited_bundle_and_prunes_the_oldest(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    for old in ("bundle-20200101T000000Z", "bundle-20210101T000000Z"):
        (folder / old).mkdir(parents=True)
        (folder / f"{old}.audit.txt").write_text("ok\n")
    result = _backup(tmp_path, folder)
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert len(kept) == 2
    assert kept[0] == "bundle-20210101T000000Z"
    newest = folder / kept[1]
    assert (newest / "records").read_text() == "records\n"
    assert f"audit of {folder}" in Path(f"{newest}.audit.txt").read_text()
    assert not (folder / "bundle-20200101T000000Z.audit.txt").exists()


def test_backup_whose_audit_fails_keeps_no_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    result = _backup(tmp_path, folder, audit_exit=1)
    assert result.returncode == 1
    assert "did not pass the audit" in result.stderr
    assert not any(p.name.startswith("bundle-") for p in folder.iterdir())


def test_backup_refuses_a_bad_keep_count(tmp_path: Path) -> None:
    result = _backup(tmp_path, tmp_path / "bundles", keep="0")
    assert result.returncode == 2
    assert not (tmp_path / "bundles").exists()
