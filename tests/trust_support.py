"""Helpers for the trust-root drills: real ledgers made with the command line, and an attacker
who edits an exported bundle with nothing but the format's own building blocks."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.config import Settings
from ledger.domain.certificates import Kind, certificate_stream, new_certificate_id
from ledger.integrity.key_history import INTRODUCED, KEYRING_STREAM
from ledger.integrity.keyring import PublicKey, Purpose, Signer, key_id, parse_time
from ledger.integrity.merkle import leaf_hash, root_from_leaf_hashes
from ledger.integrity.record import Record, SignedRecord, record_digest, seal
from ledger.log.checkpoints import sign_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "ledger.test/log"
PUBLIC_URL = "http://127.0.0.1:8000"


def bare_env(**extra: str) -> dict[str, str]:
    """The environment without any LEDGER_ setting (an auditor's machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def ledger_env(folder: Path, database_url: str | None = None) -> dict[str, str]:
    """The settings of a ledger kept in `folder` (keys, data), with the shared origin and URL."""
    env = bare_env(
        LEDGER_DATA_DIR=str(folder / "var"),
        LEDGER_KEYS_DIR=str(folder / "keys"),
        LEDGER_ORIGIN=ORIGIN,
        LEDGER_PUBLIC_URL=PUBLIC_URL,
    )
    if database_url:
        env["LEDGER_DATABASE_URL"] = database_url
    return env


def settings_env(settings: Settings) -> dict[str, str]:
    env = bare_env(
        LEDGER_DATA_DIR=str(settings.data_dir),
        LEDGER_KEYS_DIR=str(settings.keys_dir),
        LEDGER_ORIGIN=settings.origin,
        LEDGER_PUBLIC_URL=settings.public_url,
    )
    if settings.database_url:
        env["LEDGER_DATABASE_URL"] = settings.database_url
    return env


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m ledger ARGS` as a separate process, as a person would run it."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def first_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.splitlines()[0] if result.stdout else ""


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


@dataclass(frozen=True)
class CliLedger:
    """A ledger made with the command line in a folder of its own."""

    folder: Path
    env: dict[str, str]

    @property
    def trust_root(self) -> Path:
        return self.folder / "trust-root.json"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, env=self.env, cwd=self.folder)

    def export(self, name: str = "bundle") -> Path:
        target = self.folder / name
        ok(self.run("export", str(target)))
        return target

    def fingerprint(self) -> str:
        return fingerprint_of(self.trust_root)


def make_cli_ledger(
    folder: Path, *, demo: bool = True, database_url: str | None = None
) -> CliLedger:
    """`ledger keys init`, optionally `ledger demo`, and `ledger trust-root > trust-root.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    made = CliLedger(folder, ledger_env(folder, database_url))
    ok(made.run("keys", "init"))
    if demo:
        ok(made.run("demo"))
    made.trust_root.write_text(ok(made.run("trust-root")).stdout)
    return made


def fingerprint_of(trust_root: Path) -> str:
    text = trust_root.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert text.count("\n") == 1
    return "sha256:" + hashlib.sha256(text[:-1].encode("utf-8")).hexdigest()


# -- reading a bundle ------------------------------------------------------------------------


def record_lines(bundle: Path) -> list[bytes]:
    data = (bundle / "records.jsonl").read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def records(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record_lines(bundle)]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# -- the attacker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    """A key pair the attacker made: it was never introduced by the ledger's key history."""

    public: PublicKey
    signer: Signer

    @property
    def kid(self) -> str:
        return self.public.kid


def foreign_key(purpose: Purpose, valid_from: datetime) -> ForeignKey:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    kid = key_id(raw)
    return ForeignKey(PublicKey(kid, purpose, raw, valid_from), Signer(kid, private))


@dataclass(frozen=True)
class Forgery:
    records_key: ForeignKey
    checkpoints_key: ForeignKey
    positions: list[int]  # where the forged records are in the log
    certificate_id: str
    size: int  # the size of the forged checkpoint


def forge(bundle: Path, *, introduce: bool = False) -> Forgery:
    """Add a key to `keyring.json` and append records signed by it, as an attacker would.

    The forged records: with `introduce`, first a `keyring.key_introduced` of the attacker's key
    chained onto the key-ring stream (version and `prev` right), signed by that key; then an
    Associate Trainer certificate for a holder of the ledger, signed by the attacker's key.
    `stored.csv`, the manifest's counts and a checkpoint over the new tree, signed by a
    checkpoints key the attacker also adds to `keyring.json`, are made to fit.
    """
    lines = record_lines(bundle)
    parsed = [json.loads(line) for line in lines]
    origin = parsed[0]["origin"]
    at = max(parse_time(r["recorded_at"]) for r in parsed)
    own = foreign_key("records", at)
    checkpoints = foreign_key("checkpoints", at)
    forged: list[SignedRecord] = []
    if introduce:
        ring = [(i, r) for i, r in enumerate(parsed) if r["stream"] == KEYRING_STREAM]
        position, newest = ring[-1]
        forged.append(
            seal(
                Record(
                    origin=origin,
                    stream=KEYRING_STREAM,
                    version=newest["version"] + 1,
                    type=INTRODUCED,
                    recorded_at=at,
                    payload={
                        "actor": "key-manager",
                        "role": "admin",
                        "effective_on": None,
                        "key": own.public.to_json(),
                    },
                    prev=record_digest(lines[position]),
                    kid=own.kid,
                ),
                own.signer,
            )
        )
    model = next(r for r in parsed if r["type"] == "certificate.associate_trainer_issued")
    certificate_id = new_certificate_id(Kind.ASSOCIATE_TRAINER)
    forged.append(
        seal(
            Record(
                origin=origin,
                stream=str(certificate_stream(certificate_id)),
                version=1,
                type="certificate.associate_trainer_issued",
                recorded_at=at,
                payload={**model["payload"], "certificate_id": certificate_id},
                prev=None,
                kid=own.kid,
            ),
            own.signer,
        )
    )
    first = len(lines)
    lines += [signed.data for signed in forged]
    (bundle / "records.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    with (bundle / "stored.csv").open("a", encoding="utf-8") as stored:
        for signed in forged:
            r = signed.record
            stored.write(f"{r.stream},{r.version},{r.type}\n")
    keyring = read_json(bundle / "keyring.json")
    keyring["keys"] += [own.public.to_json(), checkpoints.public.to_json()]
    write_json(bundle / "keyring.json", keyring)
    root = root_from_leaf_hashes([leaf_hash(line) for line in lines])
    note = sign_checkpoint(origin, checkpoints.signer, len(lines), root, at)
    with (bundle / "checkpoints.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"size": len(lines), "note": note}) + "\n")
    manifest = read_json(bundle / "manifest.json")
    manifest["records"] = len(lines)
    manifest["checkpoints"] += 1
    write_json(bundle / "manifest.json", manifest)
    return Forgery(
        own, checkpoints, list(range(first, len(lines))), certificate_id, size=len(lines)
    )
