"""`ledger verify`: a credential checked with no network at all.

The proof bundle (`GET /credentials/{id}/bundle`, saved as `proof.json` in a folder) carries
everything a verifier needs offline: the issuer's DID document, the status list credential, the
public key ring, the issuing event's leaf data, its RFC 9162 inclusion proof and the signed
checkpoint it is proven against, with the cosignatures of the witnesses that have cosigned it.
Given a witness policy, the checkpoint must carry a quorum of valid cosignatures.

The key ring is never taken from the bundle: it is derived from the key-history records the
bundle carries, each proven in the log under the same checkpoint, and with a trust root the
genesis among them must be the root's. The issuer's key in the DID document must be a records
key of that derived ring.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from ledger.credentials.dataintegrity import ProofError
from ledger.credentials.verifier import Verdict, issuer_key, verify_credential
from ledger.integrity.errors import KeyringError
from ledger.integrity.key_history import derive_proven, prove_included
from ledger.integrity.keyring import Keyring
from ledger.integrity.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.integrity.trust_root import TrustRoot, TrustRootError
from ledger.integrity.witness_policy import (
    InvalidCosignatureError,
    QuorumNotMetError,
    WitnessPolicy,
    WitnessPolicyError,
)
from ledger.log.checkpoints import CheckpointError, verify_checkpoint

PROOF_FILE = "proof.json"


def load_bundle(path: Path) -> dict[str, Any]:
    file = path / PROOF_FILE if path.is_dir() else path
    loaded: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return loaded


def verify_offline(
    credential: Mapping[str, Any],
    bundle: Mapping[str, Any],
    on: date,
    witnesses: WitnessPolicy | None = None,
    trust_root: TrustRoot | None = None,
) -> Verdict:
    verdict = verify_credential(
        credential, bundle["did_document"], bundle.get("status_lists", {}), on
    )
    if not any(name == "proof" and ok for name, ok, _ in verdict.checks):
        return verdict
    log = bundle.get("log")
    if not log:
        verdict.add("log", False, "the bundle has no inclusion proof")
        return verdict
    keyring = _derived_keys(credential, bundle, verdict, trust_root)
    if keyring is None:
        return verdict
    try:
        checkpoint = verify_checkpoint(log["checkpoint"], keyring)
        prove_included(bundle.get("key_history") or [], checkpoint.size, checkpoint.root)
        leaf = base64.b64decode(log["leaf_data"], validate=True)
        proof = [base64.b64decode(h, validate=True) for h in log["proof"]]
        verify_inclusion(
            leaf_hash(leaf), int(log["position"]), checkpoint.size, proof, checkpoint.root
        )
        record = json.loads(leaf)
    except (CheckpointError, KeyringError, MerkleError, ValueError, KeyError) as exc:
        verdict.add("log", False, f"inclusion in the log does not verify: {exc}")
        return verdict
    signer = keyring.keys_by_kid().get(str(record.get("kid")))
    if signer is None or signer.purpose != "records":
        verdict.add("log", False, f"the issuing event's key {record.get('kid')} is not traced")
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
    if witnesses is not None:
        try:
            result = witnesses.check(log["checkpoint"])
        except (QuorumNotMetError, InvalidCosignatureError, WitnessPolicyError) as exc:
            verdict.add("witnesses", False, str(exc))
        else:
            verdict.add("witnesses", True, f"the checkpoint of size {checkpoint.size} is {result}")
    return verdict


def _derived_keys(
    credential: Mapping[str, Any],
    bundle: Mapping[str, Any],
    verdict: Verdict,
    trust_root: TrustRoot | None,
) -> Keyring | None:
    """The key ring from the bundle's key-history records; a verdict line either way."""
    entries = bundle.get("key_history") or []
    if not entries:
        verdict.add("keys", False, "the bundle carries no key history: its keys cannot be traced")
        return None
    try:
        history = derive_proven(entries)
    except KeyringError as exc:
        verdict.add("keys", False, f"the key history does not verify: {exc}")
        return None
    assert history.genesis is not None
    own = TrustRoot.from_genesis(history.genesis)
    verdict.genesis = own.fingerprint
    keyring = history.final()
    try:
        key = issuer_key(credential, bundle["did_document"])
    except ProofError as exc:
        verdict.add("keys", False, str(exc))
        return None
    if not any(k.purpose == "records" and k.public_key == key for k in keyring.keys):
        verdict.add(
            "keys",
            False,
            "the issuer's key in the DID document was not introduced by the ledger's key history",
        )
        return None
    verdict.add(
        "keys",
        True,
        f"key ring derived from {history.records} key-history records (genesis {own.fingerprint})",
    )
    if trust_root is not None:
        try:
            trust_root.check(history.origin, history.genesis)
        except TrustRootError as exc:
            verdict.add("trust root", False, f"does not chain to {trust_root.fingerprint}: {exc}")
            return None
        verdict.trust_root = trust_root.fingerprint
        verdict.add(
            "trust root", True, f"the genesis is the trust root's ({trust_root.fingerprint})"
        )
    return keyring
