"""`ledger verify`: a credential checked with no network at all.

The proof bundle (`GET /credentials/{id}/bundle`, saved as `proof.json` in a folder; built by
`ledger.credentials.bundle`) carries everything a verifier needs offline: the issuer's DID
document, the status list credentials, the public key ring, the issuing event's leaf data, its
RFC 9162 inclusion proof and the signed checkpoint it is proven against, with the cosignatures of
the witnesses that have cosigned it, and the certificate's history: every record of its own
stream, each proven under the same checkpoint. Given a witness policy, the checkpoint must carry
a quorum of valid cosignatures.

The key ring is never taken from the bundle: it is derived from the key-history records the
bundle carries, each proven in the log under the same checkpoint, and with a trust root the
genesis among them must be the root's. The issuer's key in the DID document must be a records
key of that derived ring.

Status on the date asked is computed from the proven history with the functions the ledger's
own projections use (`projections.facts`: `issue`, `fold`, `status_on`), so offline and
`/verify?as_of=` give one answer for every date. A status list speaks only for the date it was
published: asked about another date, its line is reported but does not decide.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

from ledger.credentials.dataintegrity import ProofError
from ledger.credentials.verifier import Verdict, issuer_key, verify_credential
from ledger.domain.certificates import certificate_stream
from ledger.integrity.errors import IntegrityError, KeyringError
from ledger.integrity.key_history import derive_proven, prove_included
from ledger.integrity.keyring import Keyring
from ledger.integrity.merkle import MerkleError, leaf_hash, verify_inclusion
from ledger.integrity.record import check_link, open_record, verify_signature
from ledger.integrity.trust_root import TrustRoot
from ledger.integrity.witness_policy import (
    InvalidCosignatureError,
    QuorumNotMetError,
    WitnessPolicy,
    WitnessPolicyError,
)
from ledger.log.checkpoints import CheckpointError, VerifiedCheckpoint, verify_checkpoint
from projections.base import Event, Row
from projections.facts import DECISION_TYPES, KIND_OF_TYPE, fold, issue, status_on

PROOF_FILE = "proof.json"


@dataclass
class OfflineVerdict(Verdict):
    """A verdict with since when (and until when) its status holds, as `/verify` answers."""

    since: str | None = None
    until: str | None = None


def since_until(verdict: Verdict) -> str:
    """`, since 2026-11-18 until 2027-02-18`: what `/verify?as_of=` says of the status beside
    it, for the verdict's last line (empty when the verdict has neither)."""
    since, until = getattr(verdict, "since", None), getattr(verdict, "until", None)
    return (f", since {since}" if since else "") + (f" until {until}" if until else "")


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
) -> OfflineVerdict:
    checked = verify_credential(
        credential, bundle["did_document"], bundle.get("status_lists", {}), on
    )
    verdict = OfflineVerdict(
        **{f.name: getattr(checked, f.name) for f in fields(checked) if f.init}
    )
    if not any(name == "proof" and ok for name, ok, _ in verdict.checks):
        return verdict
    set_aside = _status_list_for_its_day(verdict, bundle, on)
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
    _status_from_history(
        verdict,
        bundle,
        certificate_id,
        int(log["position"]),
        checkpoint,
        keyring,
        on,
        set_aside,
    )
    if witnesses is not None:
        try:
            result = witnesses.check(log["checkpoint"])
        except (QuorumNotMetError, InvalidCosignatureError, WitnessPolicyError) as exc:
            verdict.add("witnesses", False, str(exc))
        else:
            verdict.add("witnesses", True, f"the checkpoint of size {checkpoint.size} is {result}")
    return verdict


def _status_list_for_its_day(verdict: Verdict, bundle: Mapping[str, Any], on: date) -> bool:
    """Rename the status list's line `status list`, and when the list was published on another
    day than `on`, keep it from deciding: a list says each certificate's status on its own date
    only. True when it was so set aside."""
    days = {
        str(listed.get("validFrom", ""))[:10]
        for listed in (bundle.get("status_lists") or {}).values()
        if isinstance(listed, Mapping)
    }
    read = verdict.status != "unknown"  # the list verified and was read (else its line fails)
    for index, (name, passed, reason) in enumerate(verdict.checks):
        if name != "status":
            continue
        if not read or on.isoformat() in days:
            verdict.checks[index] = ("status list", passed, reason)
            return False
        published = ", ".join(sorted(days)) or "an unknown date"
        verdict.checks[index] = (
            "status list",
            True,
            f"{reason}: that is the status on {published}, when the list was published; it"
            f" does not decide the status on {on}, which the certificate's history in the"
            " log does",
        )
        verdict.status = "unknown"
        return True
    return False


def _status_from_history(
    verdict: OfflineVerdict,
    bundle: Mapping[str, Any],
    certificate_id: str,
    issued_at: int,
    checkpoint: VerifiedCheckpoint,
    keyring: Keyring,
    on: date,
    set_aside: bool,
) -> None:
    """The status on `on`, since and until, from the certificate's proven history: one
    `status` line, passing only when the certificate is valid on that date."""
    entries = bundle.get("history") or []
    if not entries:  # a bundle of an earlier release: only its status list speaks
        if set_aside:
            verdict.add(
                "status",
                False,
                f"the bundle carries no history of the certificate, so its status on {on}"
                " cannot be proven (fetch a fresh bundle)",
            )
            verdict.status = "unknown"
        return
    try:
        facts = history_facts(entries, certificate_id, issued_at, checkpoint, keyring)
    except HistoryError as exc:
        verdict.add("status", False, f"the certificate's history does not verify: {exc}")
        verdict.status = "unknown"
        return
    found = status_on(facts, on)
    verdict.status, verdict.since, verdict.until = found["status"], found["since"], found["until"]
    verdict.add(
        "status",
        found["status"] == "valid",
        f"{describe(facts, found, on)}; read from the {_count(len(entries))} of its history"
        f" proven under the checkpoint of size {checkpoint.size}",
    )


class HistoryError(ValueError):
    """The history in a bundle is not the certificate's proven, complete stream."""


def history_facts(
    entries: Sequence[Mapping[str, Any]],
    certificate_id: str,
    issued_at: int,
    checkpoint: VerifiedCheckpoint,
    keyring: Keyring,
) -> Row:
    """The certificate's facts folded from the bundle's history, as the projections fold them.

    Every entry must be included under `checkpoint`; together they must be the certificate's
    stream from its first version on, each signed by a records key of `keyring` and linked to
    the one before (so none in between is left out), the first being the issuing event proven
    at `issued_at`."""
    stream = str(certificate_stream(certificate_id))
    try:
        prove_included(entries, checkpoint.size, checkpoint.root)
    except (MerkleError, KeyError, TypeError, ValueError) as exc:
        raise HistoryError(f"a record is not included under the checkpoint: {exc}") from exc
    facts: Row | None = None
    previous: str | None = None
    last = -1
    for version, entry in enumerate(entries, start=1):
        try:
            position = int(entry["position"])
            data = base64.b64decode(entry["leaf_data"], validate=True)
            signed = open_record(data, stream, version)
            verify_signature(signed, keyring)
            check_link(signed, previous)
        except (IntegrityError, KeyError, TypeError, ValueError) as exc:
            raise HistoryError(str(exc)) from exc
        if signed.record.origin != keyring.origin:
            raise HistoryError(f"log position {position} is a record of {signed.record.origin}")
        if position <= last:
            raise HistoryError(f"log position {position} is out of order")
        event = Event.from_record(position, data)
        if facts is None:
            if event.type not in KIND_OF_TYPE or position != issued_at:
                raise HistoryError("its first record is not the proven issuing event")
            if event.payload.get("certificate_id") != certificate_id:
                raise HistoryError("its first record issues another certificate")
            facts = issue(event)
        elif event.type in DECISION_TYPES:
            facts = fold(facts, event)
        previous, last = signed.digest, position
    if facts is None:
        raise HistoryError("it has no records")
    return facts


def describe(facts: Row, found: Mapping[str, Any], on: date) -> str:
    """The status in words, with the log position of the record it rests on."""
    status, since, until = found["status"], found["since"], found["until"]
    events = facts["events"]
    if status == "revoked":
        return f"revoked from {since} (log position {_position(events, 'revoked', since)})"
    if status == "suspended":
        return (
            f"suspended from {since} until {until}"
            f" (log position {_position(events, 'suspended', since)})"
        )
    if status == "expired":
        return f"expired from {since}: valid until {facts['valid_until']} ({_term(events)})"
    if status == "unknown":
        return f"not yet valid on {on}: valid from {facts['valid_from']} ({_term(events)})"
    term = f"valid from {facts['valid_from']}"
    if facts["valid_until"]:
        term += f" until {facts['valid_until']}"
    return f"valid on {on}: {term} ({_term(events)})"


def _position(events: Sequence[Sequence[Any]], kind: str, on: str | None) -> str:
    """The log position of the newest decision of `kind` effective on `on`."""
    found = (e[1] for e in reversed(events) if str(e[2]).endswith(kind) and e[3] == on)
    return str(next(found, "unknown"))


def _term(events: Sequence[Sequence[Any]]) -> str:
    renewals = [e for e in events if str(e[2]).endswith("_renewed")]
    if renewals:
        return f"renewed at log position {renewals[-1][1]}"
    return f"issued at log position {events[0][1]}"


def _count(records: int) -> str:
    return f"{records} record" + ("" if records == 1 else "s")


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
    if not verdict.traced(history, trust_root):
        return None
    return keyring
