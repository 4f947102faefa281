"""Forgery drills: material that does not chain to the ledger's trust root fails, and says what
does not chain; the same material passes when the trust root matches.

(a) a credential and its offline bundle from a second ledger with the same DID and origin;
(b) a real export with a key added, a record and a checkpoint signed by it (audit and import);
(d) a key ring whose window was widened or whose compromise mark was removed.
The impostor audited by URL, (c), is in tests/e2e/test_trust_roots_http.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from ledger.api.app import create_app
from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.runtime import open_runtime
from tests.builders import qualified
from tests.conftest import make_settings
from tests.trust_support import (
    ORIGIN,
    CliLedger,
    bare_env,
    cli,
    fingerprint_of,
    first_line,
    forge,
    make_cli_ledger,
    no_traceback,
    ok,
    read_json,
    record_lines,
    settings_env,
    write_json,
)
from tests.witness_support import serving

ON = date(2017, 6, 1)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command line on an auditor's machine: no ledger settings at all."""
    result = cli(*args, env=bare_env(), cwd=cwd)
    no_traceback(result)
    return result


# -- (a) a credential of a second ledger with the same DID and origin -----------------------


@dataclass(frozen=True)
class Issued:
    folder: Path  # credential.json, bundle/proof.json, trust-root.json
    issuer: str

    @property
    def trust_root(self) -> Path:
        return self.folder / "trust-root.json"


def issue_credential(settings: Settings, folder: Path) -> Issued:
    """A ledger issues an Associate Trainer certificate; its credential and offline bundle are
    fetched over HTTP from the real app, and its trust root printed by `ledger trust-root`."""
    runtime = open_runtime(settings, clock=ManualClock(datetime(2017, 6, 1, 9, tzinfo=UTC)))
    _, certificate = qualified(runtime.service)
    runtime.catch_up()
    folder.mkdir()
    (folder / "bundle").mkdir()
    with serving(create_app(runtime, run_worker=False)) as base:  # closes the runtime at the end
        credential = httpx.get(f"{base}/credentials/{certificate}", timeout=30)
        proof = httpx.get(f"{base}/credentials/{certificate}/bundle", timeout=30)
    assert credential.status_code == 200, credential.text
    assert proof.status_code == 200, proof.text
    (folder / "credential.json").write_text(credential.text)
    (folder / "bundle" / "proof.json").write_text(proof.text)
    assert proof.json()["key_history"], "the offline bundle carries the key history"
    root = ok(cli("trust-root", env=settings_env(settings), cwd=folder)).stdout
    (folder / "trust-root.json").write_text(root)
    return Issued(folder, credential.json()["issuer"]["id"])


@pytest.fixture
def two_issuers(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Issued, Issued]:
    first = make_settings(backend, tmp_path / "first", request)
    second = make_settings(backend, tmp_path / "second", request)
    assert (first.origin, first.public_url) == (second.origin, second.public_url)
    return (
        issue_credential(first, tmp_path / "first-issued"),
        issue_credential(second, tmp_path / "second-issued"),
    )


def verify(issued: Issued, *args: str) -> subprocess.CompletedProcess[str]:
    return run(
        "verify", "credential.json", "--bundle", "bundle", "--at", ON.isoformat(), *args,
        cwd=issued.folder,
    )  # fmt: skip


def test_a_credential_of_a_second_ledger_with_the_same_did_does_not_chain_to_the_first(
    two_issuers: tuple[Issued, Issued],
) -> None:
    real, impostor = two_issuers
    assert real.issuer == impostor.issuer == "did:web:127.0.0.1%3A8000"  # the same DID
    real_root = real.trust_root.resolve()
    real_fingerprint = fingerprint_of(real_root)

    genuine = verify(real, "--trust", str(real_root))
    assert genuine.returncode == 0, genuine.stdout + genuine.stderr
    assert genuine.stdout.splitlines()[-1].startswith(
        f"VALID: status valid on {ON} (trust root {real_fingerprint})"
    )

    forged = verify(impostor, "--trust", str(real_root))
    assert forged.returncode == 1, forged.stdout + forged.stderr
    assert "PASS proof" in forged.stdout  # the impostor's own signature is fine ...
    failure = next(line for line in forged.stdout.splitlines() if line.startswith("FAIL"))
    assert failure.startswith(f"FAIL trust root: does not chain to {real_fingerprint}: ")
    assert "log position 0 (genesis " in failure
    assert "is not the trust root's genesis" in failure
    impostor_keys = [k["kid"] for k in read_json(impostor.trust_root)["keys"]]
    assert f"its keys {', '.join(impostor_keys)} are not the trust root's" in failure
    assert forged.stdout.splitlines()[-1].startswith("NOT VALID")

    # The same material passes against its own trust root, and is only consistent without one.
    own = verify(impostor, "--trust", "trust-root.json")
    assert own.returncode == 0, own.stdout + own.stderr
    unpinned = verify(impostor)
    assert unpinned.returncode == 3
    assert "CONSISTENT, NOT PINNED" in unpinned.stdout
    assert "VALID:" not in unpinned.stdout


def test_a_second_ledgers_credential_with_the_first_ledgers_key_history_fails(
    two_issuers: tuple[Issued, Issued],
) -> None:
    real, impostor = two_issuers
    proof = impostor.folder / "bundle" / "proof.json"
    bundle = json.loads(proof.read_text())
    bundle["key_history"] = json.loads((real.folder / "bundle" / "proof.json").read_text())[
        "key_history"
    ]
    bundle["keyring"] = json.loads((real.folder / "bundle" / "proof.json").read_text())["keyring"]
    proof.write_text(json.dumps(bundle))

    forged = verify(impostor, "--trust", str(real.trust_root.resolve()))
    assert forged.returncode == 1, forged.stdout + forged.stderr
    assert (
        "FAIL keys: the issuer's key in the DID document was not introduced by the ledger's"
        " key history" in forged.stdout
    )


# -- a real export: demo, a rotation of each key and a compromise mark -----------------------


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> CliLedger:
    made = make_cli_ledger(tmp_path_factory.mktemp("rotated"))
    ok(made.run("keys", "rotate"))
    ok(made.run("keys", "rotate", "--purpose", "checkpoints"))
    keys = json.loads(ok(made.run("keys", "list", "--json")).stdout)["keys"]
    old = keys[0]
    assert old["purpose"] == "records"
    assert old["valid_until"] is not None
    ok(made.run("keys", "compromise", old["kid"], "--since", old["valid_until"]))
    made.export()
    return made


@pytest.fixture
def bundle(rotated: CliLedger, tmp_path: Path) -> Path:
    shutil.copytree(rotated.folder / "bundle", tmp_path / "bundle")
    shutil.copy(rotated.trust_root, tmp_path / "trust-root.json")
    return tmp_path / "bundle"


def audit(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("audit", bundle.name, *args, cwd=bundle.parent)


def test_the_rotated_ledgers_export_passes_against_its_trust_root(
    bundle: Path, rotated: CliLedger
) -> None:
    passed = audit(bundle, "--trust", "trust-root.json", "--deep")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    head = first_line(passed)
    assert head.startswith("PASS: ")
    assert ", 6 key-history records (4 keys);" in head  # genesis, 2 x (introduced, retired), mark
    assert f"trust root {rotated.fingerprint()}" in head


# -- (b) a key added to the export, a record and a checkpoint signed by it -------------------


@pytest.mark.parametrize("introduce", [False, True], ids=["appended", "self-introduced"])
def test_a_record_and_checkpoint_signed_by_an_added_key_fail_the_audit_naming_the_key(
    bundle: Path, introduce: bool
) -> None:
    forgery = forge(bundle, introduce=introduce)
    own, checkpoints = forgery.records_key.kid, forgery.checkpoints_key.kid
    first = forgery.positions[0]

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    head = first_line(failed)
    assert head.startswith(f"FAIL at log position {first}: ")
    assert own in head or checkpoints in head
    report = failed.stdout
    for position in forgery.positions:
        assert (
            f"{position}: key {own} was not introduced by the key history before this position"
            in report
        )
    assert (
        f"checkpoint of size {forgery.size} is signed by key {checkpoints}, which the key history"
        " had not introduced by then" in report
    )
    assert (
        f"keyring.json is not the key history: key {own} of the key ring was not introduced by"
        " any key-history record" in report
    )

    # Without a trust root it is no pass either: the key is not in the key history.
    unpinned = audit(bundle)
    assert unpinned.returncode == 1
    assert first_line(unpinned) == head
    assert "PASS" not in unpinned.stdout


def test_import_refuses_the_forged_export_and_takes_the_real_one(
    rotated: CliLedger, bundle: Path, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shutil.copytree(bundle, tmp_path / "forged")
    forgery = forge(tmp_path / "forged")
    restore = make_settings(backend, tmp_path / "restore", request)
    assert restore.origin == ORIGIN
    env = settings_env(restore)
    root = str(rotated.trust_root)

    refused = cli("import", str(tmp_path / "forged"), "--trust", root, env=env, cwd=tmp_path)
    no_traceback(refused)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.startswith(
        f"error: the bundle does not audit clean: position {forgery.positions[0]}: "
    )
    assert forgery.records_key.kid in refused.stderr or forgery.checkpoints_key.kid in (
        refused.stderr
    )

    imported = cli("import", str(bundle), "--trust", root, env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert f"imported {len(record_lines(bundle)):,} records" in imported.stdout
    assert f"trust root {rotated.fingerprint()}" in imported.stdout
    live = cli("audit", "--live", env=env, cwd=tmp_path)
    assert live.returncode == 0, live.stdout + live.stderr
    assert f"trust root {rotated.fingerprint()}" in first_line(live)


def test_import_of_a_real_export_needs_its_trust_root(
    bundle: Path, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    restore = make_settings(backend, tmp_path / "restore", request)
    other = make_cli_ledger(tmp_path / "other", demo=False)  # a trust root of another ledger
    refused = cli(
        "import", str(bundle), "--trust", str(other.trust_root), env=settings_env(restore),
        cwd=tmp_path,
    )  # fmt: skip
    no_traceback(refused)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.startswith("error: the bundle does not audit clean: position 0: ")
    assert f"does not chain to the trust root {other.fingerprint()}" in refused.stderr
    unpinned = cli("import", str(bundle), env=settings_env(restore), cwd=tmp_path)
    assert unpinned.returncode == 3
    assert "--trust FILE" in unpinned.stderr


# -- (d) the key ring view edited ------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "member"),
    [("records", "valid_until"), ("checkpoints", "valid_until"), ("records", "compromised_from")],
)
def test_a_key_ring_with_a_widened_window_or_a_removed_mark_fails_naming_key_and_member(
    bundle: Path, purpose: str, member: str
) -> None:
    keyring = read_json(bundle / "keyring.json")
    old = next(k for k in keyring["keys"] if k["purpose"] == purpose)  # the first, now retired
    recorded = old[member]
    assert recorded is not None
    old[member] = None
    write_json(bundle / "keyring.json", keyring)

    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert first_line(failed) == (
        f"FAIL at log position {len(record_lines(bundle))}: keyring.json is not the key history:"
        f" key {old['kid']}: the key ring says {member} None, the key-history records say"
        f" {recorded}"
    )
    unpinned = audit(bundle)
    assert unpinned.returncode == 1
    assert "PASS" not in unpinned.stdout


def test_a_key_ring_with_a_key_removed_fails_naming_the_key(bundle: Path) -> None:
    keyring = read_json(bundle / "keyring.json")
    dropped = keyring["keys"].pop(0)
    write_json(bundle / "keyring.json", keyring)
    failed = audit(bundle, "--trust", "trust-root.json")
    assert failed.returncode == 1
    assert f"key {dropped['kid']}" in first_line(failed)
