"""Verifying a credential with no network: the proof set, the issuer's key, the validity dates,
and the status from saved status list credentials. Each step gives a verdict line and a reason.

Status is read as a standard Bitstring Status List verifier reads it: from the list the
credential's single `credentialStatus` names (purpose `suspension`, one bit set while the
certificate is suspended or revoked). When the saved lists also hold the `message` list of the
same id, its entry at the same index tells which of the two it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.credentials.dataintegrity import ProofError, proofs_of, verify_set
from ledger.credentials.multibase import MultibaseError, public_key_from_multikey
from ledger.credentials.status_entries import MESSAGE, SUSPENSION, get_status
from ledger.credentials.status_list import Bitstring, StatusListError
from ledger.integrity.key_history import KeyHistory
from ledger.integrity.trust_root import TrustRoot, TrustRootError

STATUS_NAMES = {0: "valid", 1: "suspended", 2: "revoked"}
SUSPENDED_OR_REVOKED = "suspended or revoked"  # what the suspension list alone can say


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

    def traced(self, history: KeyHistory, trust_root: TrustRoot | None) -> bool:
        """A line for the key ring derived from `history`, and one for holding its genesis to
        `trust_root` when one is pinned; False if it does not chain to it."""
        assert history.genesis is not None
        own = TrustRoot.from_genesis(history.genesis)
        self.genesis = own.fingerprint
        self.add(
            "keys",
            True,
            f"key ring derived from {history.records} key-history records"
            f" (genesis {own.fingerprint})",
        )
        if trust_root is None:
            return True
        try:
            trust_root.check(history.origin, history.genesis)
        except TrustRootError as exc:
            return self.add(
                "trust root", False, f"does not chain to {trust_root.fingerprint}: {exc}"
            )
        self.trust_root = trust_root.fingerprint
        return self.add(
            "trust root", True, f"the genesis is the trust root's ({trust_root.fingerprint})"
        )


def issuer_key(document: Mapping[str, Any], did_document: Mapping[str, Any]) -> bytes:
    """The issuer's public key that every proof of the document names (one verification
    method, an assertion method of the issuer's DID document). Raises ProofError."""
    methods = {str(proof.get("verificationMethod", "")) for proof in proofs_of(document)}
    if len(methods) != 1:
        raise ProofError("the proofs name different verification methods: " + ", ".join(methods))
    (method,) = methods
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
        suites = verify_set(credential, key)
        verdict.add("proof", True, f"{' and '.join(suites)} signatures by the issuer's key verify")
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
    entry = credential.get("credentialStatus")
    if not isinstance(entry, Mapping):
        verdict.add("status", False, "the credential has no single credentialStatus entry")
        return verdict
    list_url = str(entry.get("statusListCredential", ""))
    purpose = str(entry.get("statusPurpose", ""))
    try:
        index = int(str(entry.get("statusListIndex")))
        value = _read(status_lists, list_url, purpose, index, did_document)
    except (ProofError, StatusListError, KeyError, TypeError, ValueError) as exc:
        verdict.add("status", False, str(exc))
        return verdict
    where = f"{purpose} list {list_url}, entry {index}"
    if purpose == MESSAGE:
        verdict.status = STATUS_NAMES.get(value, "unknown")
    elif value == 0:
        verdict.status = "valid"
    else:
        verdict.status, where = _precise(status_lists, list_url, index, did_document, where)
    verdict.add("status", verdict.status == "valid", f"{verdict.status} ({where})")
    return verdict


def _read(
    status_lists: Mapping[str, Mapping[str, Any]],
    url: str,
    purpose: str,
    index: int,
    did_document: Mapping[str, Any],
) -> int:
    """The entry's value in the saved list at `url`, whose proofs must verify by the issuer's
    key and whose purpose must be the entry's (Bitstring Status List 1.0, validate algorithm)."""
    if purpose not in (SUSPENSION, MESSAGE):
        raise StatusListError(f"status purpose {purpose or '(none)'} is not one this ledger uses")
    listed = status_lists.get(url)
    if listed is None:
        raise StatusListError(f"no saved status list {url}")
    try:
        verify_set(listed, issuer_key(listed, did_document))
    except ProofError as exc:
        raise ProofError(f"status list {url} does not verify: {exc}") from exc
    subject = listed["credentialSubject"]
    if subject.get("statusPurpose") != purpose:
        raise StatusListError(f"status list {url} is not a {purpose} list")
    bits = Bitstring.decode(str(subject["encodedList"]))
    if purpose == MESSAGE:
        return get_status(bits, index)
    return int(bits.get(index))


def _precise(
    status_lists: Mapping[str, Mapping[str, Any]],
    url: str,
    index: int,
    did_document: Mapping[str, Any],
    where: str,
) -> tuple[str, str]:
    """Suspended or revoked? The message list of the same id says, at the same index, when it
    is among the saved lists (and verifies); else the suspension list's own answer stands."""
    head, sep, list_id = url.rpartition(f"/{SUSPENSION}/")
    message_url = f"{head}/{MESSAGE}/{list_id}" if sep else ""
    if message_url not in status_lists:
        return SUSPENDED_OR_REVOKED, where
    try:
        value = _read(status_lists, message_url, MESSAGE, index, did_document)
    except (ProofError, StatusListError, KeyError, TypeError, ValueError) as exc:
        return SUSPENDED_OR_REVOKED, f"{where}; the message list does not tell: {exc}"
    if value not in (1, 2):  # the lists disagree: keep what the credential's own list says
        return SUSPENDED_OR_REVOKED, f"{where}; the message list says {STATUS_NAMES.get(value)}"
    return STATUS_NAMES[value], f"{where}; message list {message_url} says {STATUS_NAMES[value]}"
