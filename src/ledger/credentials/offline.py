"""`ledger verify`: a credential checked with no network at all.

The proof bundle (`GET /credentials/{id}/bundle`, saved as `proof.json` in a folder) carries
everything a verifier needs offline: the issuer's DID document, the status list credential, the
public key ring, the issuing event's leaf data, its RFC 9162 inclusion proof and the signed
checkpoint it is proven against.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from ledger.credentials.verifier import Verdict, verify_credential
from ledger.integrity.errors import KeyringError
from ledger.integrity.keyring import Keyring
from ledger.integrity.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.log.checkpoints import CheckpointError, verify_checkpoint

PROOF_FILE = "proof.json"


def load_bundle(path: Path) -> dict[str, Any]:
    file = path / PROOF_FILE if path.is_dir() else path
    loaded: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return loaded


def verify_offline(credential: Mapping[str, Any], bundle: Mapping[str, Any], on: date) -> Verdict:
    verdict = verify_credential(
        credential, bundle["did_document"], bundle.get("status_lists", {}), on
    )
    if not any(name == "proof" and ok for name, ok, _ in verdict.checks):
        return verdict
    log = bundle.get("log")
    if not log:
        verdict.add("log", False, "the bundle has no inclusion proof")
        return verdict
    try:
        keyring = Keyring.from_json(bundle["keyring"])
        checkpoint = verify_checkpoint(log["checkpoint"], keyring)
        leaf = base64.b64decode(log["leaf_data"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in log["proof"]]
        verify_inclusion(
            leaf_hash(leaf), int(log["position"]), checkpoint.size, proof, checkpoint.root
        )
        record = json.loads(leaf)
    except (CheckpointError, KeyringError, MerkleError, ValueError, KeyError) as exc:
        verdict.add("log", False, f"inclusion in the log does not verify: {exc}")
        return verdict
    certificate_id = str(credential.get("id", "")).rsplit("/", 1)[-1]
    if record.get("payload", {}).get("certificate_id") != certificate_id:
        verdict.add("log", False, "the proven log entry is not this certificate's issuing event")
        return verdict
    verdict.add(
        "log",
        True,
        f"issuing event proven at log position {log['position']} under the checkpoint of size"
        f" {checkpoint.size} signed at {checkpoint.signed_at.isoformat()}",
    )
    return verdict
