"""Verifying a credential with no network: the proof, the issuer's key, the validity dates, and
the status from a saved status list credential. Each step gives a verdict line and a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.credentials.dataintegrity import ProofError, verify_proof
from ledger.credentials.multibase import MultibaseError, public_key_from_multikey
from ledger.credentials.status_entries import get_status
from ledger.credentials.status_list import Bitstring, StatusListError

STATUS_NAMES = {0: "valid", 1: "suspended", 2: "revoked"}


@dataclass
class Verdict:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    status: str = "unknown"
    genesis: str | None = None  # the fingerprint of the key history's genesis, when traced
    trust_root: str | None = None  # the trust root it was checked against, when pinned

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    def add(self, name: str, passed: bool, reason: str) -> bool:
        self.checks.append((name, passed, reason))
        return passed

    def lines(self) -> list[str]:
        return [f"{'PASS' if ok else 'FAIL'} {name}: {reason}" for name, ok, reason in self.checks]


def issuer_key(document: Mapping[str, Any], did_document: Mapping[str, Any]) -> bytes:
    proof = document.get("proof") or {}
    method = str(proof.get("verificationMethod", ""))
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if did_document.get("id") != issuer_id or not method.startswith(f"{issuer_id}#"):
        raise ProofError(f"verification method {method} is not the issuer's ({issuer_id})")
    if method not in did_document.get("assertionMethod", []):
        raise ProofError(f"{method} is not an assertion method of {issuer_id}")
    for entry in did_document.get("verificationMethod", []):
        if entry.get("id") == method and entry.get("controller") == issuer_id:
            try:
                return public_key_from_multikey(str(entry.get("publicKeyMultibase", "")))
            except MultibaseError as exc:
                raise ProofError(f"{method}: {exc}") from exc
    raise ProofError(f"{method} is not in the issuer's DID document")


def verify_credential(
    credential: Mapping[str, Any],
    did_document: Mapping[str, Any],
    status_lists: Mapping[str, Mapping[str, Any]],
    on: date,
) -> Verdict:
    verdict = Verdict()
    try:
        key = issuer_key(credential, did_document)
        verify_proof(credential, key)
        verdict.add("proof", True, "eddsa-jcs-2022 signature by the issuer's key verifies")
    except ProofError as exc:
        verdict.add("proof", False, str(exc))
        return verdict
    day = on.isoformat()
    valid_from = str(credential.get("validFrom", ""))[:10]
    valid_until = str(credential.get("validUntil", ""))[:10] or None
    if day < valid_from:
        verdict.add("validity", False, f"not valid before {valid_from}")
        verdict.status = "unknown"
        return verdict
    if valid_until is not None and day > valid_until:
        verdict.add("validity", False, f"expired: valid until {valid_until}")
        verdict.status = "expired"
        return verdict
    verdict.add(
        "validity",
        True,
        f"valid from {valid_from}" + (f" until {valid_until}" if valid_until else ""),
    )
    entry = credential.get("credentialStatus") or {}
    list_url = str(entry.get("statusListCredential", ""))
    listed = status_lists.get(list_url)
    if listed is None:
        verdict.add("status", False, f"no saved status list {list_url}")
        return verdict
    try:
        verify_proof(listed, issuer_key(listed, did_document))
        bits = Bitstring.decode(str(listed["credentialSubject"]["encodedList"]))
        value = get_status(bits, int(entry["statusListIndex"]))
    except (ProofError, StatusListError, KeyError, ValueError) as exc:
        verdict.add("status", False, f"status list does not verify: {exc}")
        return verdict
    verdict.status = STATUS_NAMES.get(value, "unknown")
    verdict.add(
        "status",
        value == 0,
        f"{verdict.status} (status list {list_url}, entry {entry['statusListIndex']})",
    )
    return verdict
