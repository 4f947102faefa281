"""`ledger audit`: verify a bundle with nothing but the bundle and the specification.

Checks, in one pass over the records in log order:

1. every record has the record's form; it is stored where it says (stream, version, type); it
   is of this ledger's origin; its key is a records key of the key ring, valid when it signed;
2. every stream's versions run 1, 2, 3, ... and each record names its predecessor's digest;
3. the RFC 9162 root over the leaves equals the signed root of every checkpoint, and every
   checkpoint is signed by a checkpoints key valid at its signed-at time;
4. a trusted checkpoint (from an earlier audit) is reproduced: nothing before it was rewritten,
   the log was not truncated below it, and the checkpoints were not rolled back behind it;
5. the newest signature of every stream verifies (with `deep`, every signature, on all cores);
6. when the bundle carries projection digests, `replay` rebuilds them from the records alone.

The first problem is the one at the lowest log position; every problem names its position.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ledger.audit.bundle import Source
from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.keyring import Keyring, PublicKey, format_time
from ledger.integrity.merkle import node_hash, root_from_peaks
from ledger.integrity.record import open_record, verify_signature
from ledger.integrity.scan import Envelope, scan
from ledger.log.checkpoints import CheckpointError, verify_checkpoint

MAX_PROBLEMS = 1000
DEEP_CHUNK = 4096


@dataclass(frozen=True, order=True)
class Problem:
    position: int
    reason: str


@dataclass
class AuditReport:
    origin: str
    records: int = 0
    streams: int = 0
    checkpoints: int = 0
    newest_checkpoint: int = 0
    verified_size: int = 0
    signatures_checked: int = 0
    deep: bool = False
    trusted_size: int | None = None
    projections: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return min(self.problems) if self.problems else None

    @property
    def unsigned_tail(self) -> int:
        return max(self.records - self.newest_checkpoint, 0)

    def to_json(self) -> dict[str, Any]:
        first = self.first_problem
        return {
            "ok": self.ok,
            "origin": self.origin,
            "records": self.records,
            "streams": self.streams,
            "checkpoints": self.checkpoints,
            "newest_checkpoint": self.newest_checkpoint,
            "unsigned_tail": self.unsigned_tail,
            "signatures_checked": self.signatures_checked,
            "deep": self.deep,
            "trusted_checkpoint": self.trusted_size,
            "projections": self.projections,
            "first_problem": None if first is None else vars(first),
            "problems": [vars(p) for p in sorted(self.problems)[:100]],
            "problem_count": len(self.problems),
        }


class _Keys:
    """Records keys with their windows as record-time strings (which order like times)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keys: dict[bytes, tuple[PublicKey, bytes, bytes | None, bytes | None]] = {}
        for key in keyring.keys:
            if key.purpose == "records":
                self.keys[key.kid.encode()] = (
                    key,
                    format_time(key.valid_from).encode(),
                    None if key.valid_until is None else format_time(key.valid_until).encode(),
                    None
                    if key.compromised_from is None
                    else format_time(key.compromised_from).encode(),
                )

    def problem(self, kid: bytes, at: bytes) -> str | None:
        entry = self.keys.get(kid)
        if entry is None:
            return f"key {kid.decode(errors='replace')} is not a records key of the key ring"
        key, start, until, compromised = entry
        if compromised is not None and at >= compromised:
            return f"key {key.kid} is compromised from {_t(compromised)}; record made at {_t(at)}"
        if at < start or (until is not None and at >= until):
            return f"key {key.kid} was not valid at {_t(at)}"
        return None


def _verify_chunk(items: list[tuple[int, bytes, bytes, bytes]]) -> list[int]:
    """Positions whose signature fails (runs in a worker process)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    failed = []
    keys: dict[bytes, Ed25519PublicKey] = {}
    for position, message, signature, public in items:
        key = keys.get(public) or keys.setdefault(
            public, Ed25519PublicKey.from_public_bytes(public)
        )
        try:
            key.verify(signature, message)
        except InvalidSignature:
            failed.append(position)
    return failed


class Auditor:
    def __init__(
        self,
        keyring: Keyring,
        *,
        deep: bool = False,
        trusted_checkpoint: str | None = None,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
        replay: Callable[[list[str], Iterable[bytes]], dict[str, str]] | None = None,
        verified: set[bytes] | None = None,
    ) -> None:
        self.keyring = keyring
        self.deep = deep
        self.trusted_note = trusted_checkpoint
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self.replay = replay
        # Leaf hashes of records whose signature verified (under an unchanged key ring) in an
        # earlier audit by this process; a leaf hash covers every byte, so an edit misses.
        self.verified = verified if verified is not None else set()

    def audit(self, bundle: Source) -> AuditReport:
        report = AuditReport(origin=self.keyring.origin, deep=self.deep)
        problems = report.problems

        def problem(position: int, reason: str) -> None:
            if len(problems) < MAX_PROBLEMS:
                problems.append(Problem(position, reason))

        targets = self._checkpoint_targets(bundle, report, problem)
        report.records = self._scan_records(bundle, report, targets, problem)
        for size, (_, label) in sorted(targets.items()):
            if size > report.records:
                problem(
                    report.verified_size,
                    f"the log is truncated: {label} of size {size} was signed, but the bundle"
                    f" holds only {report.records} records; positions from"
                    f" {report.verified_size} on are not covered by a reproduced root",
                )
                break
        if self.replay is not None:
            self._replay(bundle, report, problem)
        return report

    # -- checkpoints ------------------------------------------------------------------------

    def _checkpoint_targets(
        self, bundle: Source, report: AuditReport, problem: Callable[[int, str], None]
    ) -> dict[int, tuple[bytes, str]]:
        """Verify every checkpoint note; return the roots the records must reproduce, by size."""
        targets: dict[int, tuple[bytes, str]] = {}
        previous = 0
        listed = 0  # the newest size listed, valid or not (a forged one is reported as such)
        for size, note in bundle.checkpoints():
            report.checkpoints += 1
            listed = max(listed, size)
            try:
                verified = verify_checkpoint(note, self.keyring)
            except CheckpointError as exc:
                problem(size, f"checkpoint of size {size}: {exc}")
                continue
            if verified.size != size:
                problem(size, f"checkpoint listed as size {size} signs size {verified.size}")
                continue
            if size <= previous:
                problem(size, f"checkpoint of size {size} follows one of size {previous}")
                continue
            previous = size
            targets[size] = (verified.root, "checkpoint")
        report.newest_checkpoint = previous
        if self.trusted_note is not None:
            try:
                trusted = verify_checkpoint(self.trusted_note, self.keyring)
            except CheckpointError as exc:
                problem(0, f"the trusted checkpoint does not verify: {exc}")
                return targets
            report.trusted_size = trusted.size
            known = targets.get(trusted.size)
            if known is not None and known[0] != trusted.root:
                problem(
                    trusted.size, "the bundle signs another root at the trusted checkpoint's size"
                )
            targets.setdefault(trusted.size, (trusted.root, "the trusted checkpoint"))
            if listed < trusted.size:
                problem(
                    listed,
                    f"checkpoint rollback: the newest checkpoint in the bundle has size {listed},"
                    f" behind the trusted checkpoint of size {trusted.size}",
                )
        return targets

    # -- records ----------------------------------------------------------------------------

    def _scan_records(
        self,
        bundle: Source,
        report: AuditReport,
        targets: dict[int, tuple[bytes, str]],
        problem: Callable[[int, str], None],
    ) -> int:
        origin = self.keyring.origin.encode()
        keys = _Keys(self.keyring)
        heads: dict[bytes, tuple[int, bytes, int, bytes]] = {}
        peaks: list[bytes] = []
        last_good = 0
        sha256 = hashlib.sha256
        deep = _DeepVerifier(keys, self.workers) if self.deep else None
        count = 0
        for position, (data, stored) in enumerate(bundle.records()):
            count = position + 1
            leaf = sha256(b"\x00" + data).digest()
            env = scan(data)
            if env is None:
                problem(position, _diagnose(data, stored))
            else:
                reason = _check_envelope(env, stored, origin, keys)
                if reason is not None:
                    problem(position, reason)
                head = heads.get(env.stream)
                if head is None:
                    if env.version != 1 or env.prev is not None:
                        problem(
                            position,
                            f"stream {_t(env.stream)} starts at version {env.version}"
                            + ("" if env.prev is None else " with a predecessor digest"),
                        )
                elif env.version != head[0] + 1:
                    problem(
                        position,
                        f"stream {_t(env.stream)}: version {env.version} follows version"
                        f" {head[0]} (log position {head[2]})",
                    )
                elif env.prev != head[1]:
                    problem(
                        head[2],
                        f"stream {_t(env.stream)} version {head[0]} does not match the"
                        f" digest that version {env.version} (log position {position}) names",
                    )
                heads[env.stream] = (env.version, leaf.hex().encode(), position, data)
                if deep is not None:
                    deep.add(position, env, data)
            # RFC 9162 root over the leaves so far, kept as the compact range's peaks.
            index, node = position, leaf
            while index & 1:
                node = node_hash(peaks.pop(), node)
                index >>= 1
            peaks.append(node)
            target = targets.get(position + 1)
            if target is not None:
                if root_from_peaks(peaks) != target[0]:
                    problem(
                        last_good,
                        f"log positions {last_good} to {position} do not reproduce the signed root"
                        f" of {target[1]} of size {position + 1}",
                    )
                else:
                    last_good = report.verified_size = position + 1
            if self.progress is not None and position % 1000 == 0:
                self.progress(position)
        report.streams = len(heads)
        if deep is not None:
            for failed in deep.finish():
                problem(failed, "signature does not verify")
            report.signatures_checked = deep.count
        else:
            for version, digest, at, data in heads.values():
                report.signatures_checked += 1
                if digest in self.verified:
                    continue
                stream = scan(data)
                assert stream is not None
                try:
                    signed = open_record(data, stream.stream.decode(errors="replace"), version)
                    verify_signature(signed, self.keyring)
                except RecordIntegrityError as exc:
                    problem(at, f"newest record of the stream: {exc}")
                    continue
                self.verified.add(digest)
        if self.progress is not None:
            self.progress(count)
        return count

    def _replay(
        self, bundle: Source, report: AuditReport, problem: Callable[[int, str], None]
    ) -> None:
        """Rebuild each exported projection from the records it covered, compare digests."""
        assert self.replay is not None
        expected = bundle.projections() or {}
        by_position: dict[int, list[str]] = {}
        for name, exported in expected.items():
            by_position.setdefault(int(exported.get("position", report.records)), []).append(name)
        for position, names in sorted(by_position.items()):
            if position > report.records:
                for name in names:
                    problem(
                        report.records,
                        f"projection {name} covers {position} records,"
                        f" the bundle holds {report.records}",
                    )
                continue
            records = (data for data, _ in islice(bundle.records(), position))
            rebuilt = self.replay(sorted(names), records)
            for name in sorted(names):
                want, got = expected[name].get("digest"), rebuilt.get(name)
                if got is None:
                    report.projections[name] = "unknown to this auditor"
                    problem(report.records, f"projection {name} cannot be replayed by this auditor")
                elif got != want:
                    report.projections[name] = "mismatch"
                    problem(
                        report.records,
                        f"projection {name}: digest rebuilt from the first {position} records"
                        f" ({got}) differs from the exported one ({want})",
                    )
                else:
                    report.projections[name] = "ok"


def _t(value: bytes) -> str:
    return value.decode(errors="replace")


def _check_envelope(env: Envelope, stored: bytes, origin: bytes, keys: _Keys) -> str | None:
    place = b"%s,%d,%s" % (env.stream, env.version, env.type)
    if stored != place:
        return (
            f"record {place.decode(errors='replace')} is stored as"
            f" {stored.decode(errors='replace')}"
        )
    if env.origin != origin:
        return f"record is of origin {env.origin.decode(errors='replace')}, not this ledger's"
    return keys.problem(env.kid, env.recorded_at)


def _diagnose(data: bytes, stored: bytes) -> str:
    stream, _, rest = stored.decode(errors="replace").partition(",")
    version = rest.partition(",")[0]
    try:
        open_record(data, stream, int(version) if version.isdigit() else 0)
    except RecordIntegrityError as exc:
        return exc.reason
    return "record is not in the canonical record form"


class _DeepVerifier:
    """Every signature, in chunks on a process pool, with bounded memory."""

    def __init__(self, keys: _Keys, workers: int) -> None:
        self.keys = keys
        self.pool = ProcessPoolExecutor(max_workers=workers)
        self.workers = workers
        self.pending: list[Future[list[int]]] = []
        self.failed: list[int] = []
        self.chunk: list[tuple[int, bytes, bytes, bytes]] = []
        self.count = 0

    def add(self, position: int, env: Envelope, data: bytes) -> None:
        entry = self.keys.keys.get(env.kid)
        if entry is None:
            return  # reported already: unknown key
        try:
            signature = base64.b64decode(env.sig, validate=True)
        except ValueError:
            self.failed.append(position)
            return
        self.chunk.append((position, env.message(data), signature, entry[0].public_key))
        self.count += 1
        if len(self.chunk) >= DEEP_CHUNK:
            self._submit()

    def _submit(self) -> None:
        self.pending.append(self.pool.submit(_verify_chunk, self.chunk))
        self.chunk = []
        while len(self.pending) > 2 * self.workers:
            self.failed.extend(self.pending.pop(0).result())

    def finish(self) -> Iterator[int]:
        if self.chunk:
            self._submit()
        for future in self.pending:
            self.failed.extend(future.result())
        self.pool.shutdown()
        return iter(sorted(self.failed))
