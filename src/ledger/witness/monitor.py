"""`ledger monitor URL --trust FILE`: follow a ledger's checkpoints and catch a split view.

Each check fetches `URL/log/checkpoint`, verifies the log's signature with the pinned keys, and
compares it with

* the checkpoint seen last time (the state file): equal sizes need equal roots; otherwise the
  ledger must prove consistency between the two (`/log/proof/consistency`);
* each witness's newest cosigned checkpoint of this log (`<witness URL>/<origin hash>/checkpoint`,
  C2SP tlog-witness), for the witnesses of the policy that have a URL: the same rules.

Two checkpoints signed by the log key that cannot both be true are a fork; the evidence is the
two signed notes (and the proof that failed, if any), which anyone can check with the log key.
With a witness policy the served checkpoint must also carry a quorum of cosignatures.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ledger.integrity.errors import KeyringError
from ledger.integrity.key_history import derive_proven, prove_included
from ledger.integrity.merkle import MerkleError, ProofError, verify_consistency
from ledger.integrity.note import (
    Ed25519Verifier,
    NoteError,
    open_checkpoint,
    open_note,
    parse_verifier_key,
)
from ledger.integrity.tlog_witness import origin_hash
from ledger.integrity.trust_root import TrustRoot, TrustRootError
from ledger.integrity.witness_policy import (
    InvalidCosignatureError,
    PolicyWitness,
    QuorumNotMetError,
    WitnessPolicy,
    WitnessPolicyError,
)

EVIDENCE_FORMAT = "ledger-fork-evidence/1"
STATE_FORMAT = "ledger-monitor-state/1"
TIMEOUT = 30.0

Fetch = Callable[[str], tuple[int, bytes]]


class MonitorError(Exception):
    """The check could not be made (unreachable ledger, bad signature, unreadable file)."""


def http_get(url: str) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise MonitorError(f"{url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise MonitorError(f"cannot read {url}: {exc}") from exc


@dataclass(frozen=True)
class LogTrust:
    """The pinned identity of one log: its origin and its checkpoint verifier keys."""

    origin: str
    verifiers: tuple[Ed25519Verifier, ...]
    root: TrustRoot | None = None  # with a trust root, later checkpoint keys are traced to it

    @classmethod
    def load(cls, path: Path) -> LogTrust:
        """A trust root (`ledger trust-root`), or lines of C2SP vkeys (`[log] <vkey>`)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MonitorError(f"cannot read the trust file {path}: {exc}") from exc
        if text.lstrip().startswith("{"):
            try:
                root = TrustRoot.parse(text)
            except TrustRootError as exc:
                raise MonitorError(f"{path}: {exc}") from exc
            keys = tuple(
                Ed25519Verifier(root.origin, k.public_key)
                for k in root.keys
                if k.purpose == "checkpoints"
            )
            if not keys:
                raise MonitorError(f"{path}: the trust root pins no checkpoints key")
            return cls(root.origin, keys, root)
        verifiers: list[Ed25519Verifier] = []
        for number, line in enumerate(text.splitlines(), 1):
            items = line.split()
            if not items or items[0].startswith("#"):
                continue
            vkey = items[-1] if items[0] == "log" and len(items) == 2 else items[0]
            try:
                verifier = parse_verifier_key(vkey)
            except NoteError as exc:
                raise MonitorError(f"{path} line {number}: {exc}") from exc
            if not isinstance(verifier, Ed25519Verifier):
                raise MonitorError(f"{path} line {number}: {vkey} is not a log key")
            verifiers.append(verifier)
        if not verifiers or len({v.name for v in verifiers}) != 1:
            raise MonitorError(f"{path}: want the vkeys of one log (one origin)")
        return cls(verifiers[0].name, tuple(verifiers))


@dataclass(frozen=True)
class Seen:
    """A verified checkpoint and where it came from."""

    source: str
    note: str
    size: int
    root: bytes

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "note": self.note, "size": self.size}


@dataclass(frozen=True)
class ForkEvidence:
    origin: str
    reason: str
    first: Seen
    second: Seen
    proof: tuple[str, ...] = ()
    log_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": EVIDENCE_FORMAT,
            "origin": self.origin,
            "reason": self.reason,
            "detected_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "log_keys": list(self.log_keys),
            "checkpoints": [self.first.to_json(), self.second.to_json()],
            "consistency_proof": list(self.proof),
        }


@dataclass
class MonitorReport:
    seen: Seen
    lines: list[str] = field(default_factory=list)
    fork: ForkEvidence | None = None
    quorum_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.fork is None and self.quorum_problem is None


class Monitor:
    def __init__(
        self,
        base_url: str,
        trust: LogTrust,
        policy: WitnessPolicy | None = None,
        fetch: Fetch = http_get,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.trust = trust
        self.policy = policy
        self.fetch = fetch
        self.verifiers = list(trust.verifiers)

    def _verified(self, source: str, note: str) -> Seen:
        try:
            checkpoint, _ = open_checkpoint(note, self.verifiers, origin=self.trust.origin)
        except NoteError as exc:
            if self.trust.root is not None and self.base and self._trace_keys():
                return self._verified(source, note)
            raise MonitorError(
                f"the checkpoint from {source} does not verify under the pinned log keys: {exc}"
            ) from exc
        return Seen(source, note, checkpoint.size, checkpoint.root_hash)

    def _trace_keys(self) -> bool:
        """Learn checkpoint keys introduced after the genesis from the ledger's key history,
        traced record by record to the trust root; True when a new key was learnt."""
        assert self.trust.root is not None
        url = f"{self.base}/log/key-history"
        status, body = self.fetch(url)
        if status != 200:
            return False
        try:
            served = json.loads(body)
            history = derive_proven(served["records"])
            self.trust.root.check(history.origin, history.genesis)
        except (ValueError, KeyError, TypeError, KeyringError, TrustRootError) as exc:
            raise MonitorError(
                f"{url}: the key history does not chain to the trust root: {exc}"
            ) from exc
        known = {v.key_id for v in self.verifiers}
        fresh = [
            Ed25519Verifier(self.trust.origin, k.public_key)
            for k in history.final().keys
            if k.purpose == "checkpoints"
        ]
        fresh = [v for v in fresh if v.key_id not in known]
        if not fresh:
            return False
        candidates = [*self.verifiers, *fresh]
        try:
            checkpoint, _ = open_checkpoint(
                str(served["checkpoint"]), candidates, origin=self.trust.origin
            )
            prove_included(served["records"], checkpoint.size, checkpoint.root_hash)
        except (NoteError, MerkleError, ValueError, KeyError) as exc:
            raise MonitorError(f"{url}: the key history is not proven in the log: {exc}") from exc
        self.verifiers = candidates
        return True

    def current(self) -> Seen:
        url = f"{self.base}/log/checkpoint"
        status, body = self.fetch(url)
        if status != 200:
            raise MonitorError(f"{url} answered {status}")
        return self._verified(url, body.decode("utf-8", errors="replace"))

    def check(self, previous: Seen | None) -> MonitorReport:
        """One check of the ledger against what was seen before and what witnesses hold."""
        seen = self.current()
        report = MonitorReport(seen)
        report.lines.append(f"the ledger serves a checkpoint of size {seen.size}")
        others: list[Seen] = [] if previous is None else [previous]
        if self.policy is not None:
            others.extend(self._witness_views(report))
        for other in others:
            report.fork = self.compare(other, seen)
            if report.fork is not None:
                report.lines.append(f"FORK: {report.fork.reason}")
                return report
            report.lines.append(f"consistent with size {other.size} from {other.source}")
        if self.policy is not None:
            try:
                result = self.policy.check(seen.note)
            except (QuorumNotMetError, InvalidCosignatureError, WitnessPolicyError) as exc:
                report.quorum_problem = str(exc)
                report.lines.append(f"WITNESSES: {exc}")
            else:
                report.lines.append(f"witnesses: {result}")
        return report

    def _witness_views(self, report: MonitorReport) -> list[Seen]:
        assert self.policy is not None
        views = []
        for witness in self.policy.witnesses.values():
            if not witness.url:
                continue
            url = f"{witness.url.rstrip('/')}/{origin_hash(self.trust.origin)}/checkpoint"
            try:
                status, body = self.fetch(url)
            except MonitorError as exc:
                report.lines.append(f"witness {witness.name}: {exc}")
                continue
            if status == 404:
                report.lines.append(f"witness {witness.name} has cosigned no checkpoint yet")
                continue
            if status != 200:
                report.lines.append(f"witness {witness.name}: {url} answered {status}")
                continue
            note = body.decode("utf-8", errors="replace")
            problem = _cosigned_by(note, witness)
            if problem is not None:
                report.lines.append(f"witness {witness.name}: {problem}; ignored")
                continue
            views.append(self._verified(f"witness {witness.name} ({url})", note))
        return views

    def compare(self, first: Seen, second: Seen) -> ForkEvidence | None:
        """None if the two checkpoints can both be true; else the evidence that they cannot."""
        if first.size == second.size:
            if first.root == second.root:
                return None
            return self._evidence(
                f"two checkpoints of size {first.size} with different roots"
                f" ({first.source}; {second.source})",
                first,
                second,
            )
        small, large = sorted((first, second), key=lambda s: s.size)
        query = urlencode({"from": small.size, "to": large.size})
        url = f"{self.base}/log/proof/consistency?{query}"
        status, body = self.fetch(url)
        if status != 200:
            return self._evidence(
                f"the ledger gives no consistency proof from size {small.size} to {large.size}"
                f" ({url} answered {status})",
                first,
                second,
            )
        try:
            encoded = [str(h) for h in json.loads(body)["proof"]]
            proof = [base64.b64decode(h, validate=True) for h in encoded]
        except (ValueError, KeyError, TypeError) as exc:
            raise MonitorError(f"{url} answered an unreadable proof: {exc}") from exc
        try:
            verify_consistency(small.size, large.size, proof, small.root, large.root)
        except ProofError as exc:
            return self._evidence(
                f"the checkpoint of size {large.size} is not consistent with the one of size"
                f" {small.size}: {exc}",
                first,
                second,
                encoded,
            )
        return None

    def _evidence(
        self, reason: str, first: Seen, second: Seen, proof: Sequence[str] = ()
    ) -> ForkEvidence:
        return ForkEvidence(
            self.trust.origin,
            reason,
            first,
            second,
            tuple(proof),
            tuple(v.vkey() for v in self.trust.verifiers),
        )


def _cosigned_by(note: str, witness: PolicyWitness) -> str | None:
    try:
        open_note(note, [witness.verifier])
    except NoteError as exc:
        return f"its checkpoint carries no valid cosignature of its own: {exc}"
    return None


def load_state(path: Path) -> Seen | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != STATE_FORMAT:
            raise MonitorError(f"{path} is not a monitor state file")
        return Seen(
            str(data["source"]),
            str(data["note"]),
            int(data["size"]),
            base64.b64decode(data["root"], validate=True),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise MonitorError(f"{path} is not a monitor state file: {exc}") from exc


def save_state(path: Path, seen: Seen) -> None:
    data = {
        "format": STATE_FORMAT,
        **seen.to_json(),
        "root": base64.b64encode(seen.root).decode("ascii"),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_evidence(path: Path, evidence: ForkEvidence) -> None:
    path.write_text(json.dumps(evidence.to_json(), indent=2) + "\n", encoding="utf-8")


def check_evidence(data: Any, trust: LogTrust) -> str:
    """Re-check saved fork evidence: both notes verify under the log key and cannot both hold
    (equal sizes with different roots, or a consistency proof that fails). Returns the reason."""
    notes = [c["note"] for c in data["checkpoints"]]
    seen = [Monitor("", trust)._verified(f"checkpoint {i + 1}", n) for i, n in enumerate(notes)]
    first, second = seen
    if first.size == second.size:
        if first.root == second.root:
            raise MonitorError("the two checkpoints agree: no fork")
        return f"two checkpoints of size {first.size} signed by the log with different roots"
    small, large = sorted(seen, key=lambda s: s.size)
    proof = [base64.b64decode(h) for h in data.get("consistency_proof", [])]
    try:
        verify_consistency(small.size, large.size, proof, small.root, large.root)
    except ProofError as exc:
        return f"the saved consistency proof fails: {exc}"
    raise MonitorError("the saved consistency proof verifies: no fork")
