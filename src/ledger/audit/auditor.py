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
6. when the bundle carries projection digests, `replay` rebuilds them from the records alone;
7. the key ring is derived from the key-history records (genesis at position 0, every change
   signed by a key valid then, every record signed by a key introduced before it); the key ring
   the material shows must equal it, and with a trust root the genesis must be the root's.

Every problem names its position. The headline is the lowest position of a record that is itself
at fault; problems that are consequences of another (a root that no longer reproduces) come
after it, and a truncation is stated first.
"""

from __future__ import annotations

import base64
import hashlib
import os
from binascii import hexlify
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ledger.audit.bundle import Bundle, BundleError, Source
from ledger.audit.fastform import FastForm
from ledger.audit.manifest import manifest_problems
from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.key_history import KEYRING_STREAM, KeyHistory, KeyHistoryError, compare
from ledger.integrity.keyring import Keyring, PublicKey, format_time
from ledger.integrity.merkle import root_from_peaks
from ledger.integrity.record import open_record, verify_signature
from ledger.integrity.scan import Envelope, scan
from ledger.integrity.trust_root import TrustRoot, TrustRootError
from ledger.log.checkpoints import CheckpointError, verify_checkpoint

MAX_PROBLEMS = 1000
DEEP_CHUNK = 4096
BATCH = 4096  # records per batch when a source has no batches of its own


@dataclass(frozen=True, order=True)
class Problem:
    position: int
    reason: str
    # A consequence of a fault found elsewhere (a root that no longer reproduces): reported,
    # but never the headline while a record itself is at fault.
    consequence: bool = False
    truncation: bool = False
    end: int | None = None  # the last position of a range that does not reproduce its root


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
    key_history_records: int = 0
    keys: int = 0
    trust_root: str | None = None  # the fingerprint the genesis was checked against
    pinned_by: str = "the trust root given"
    genesis: str | None = None  # the fingerprint of the material's own genesis
    witnesses: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def pinned(self) -> bool:
        return self.trust_root is not None

    @property
    def first_problem(self) -> Problem | None:
        ordered = self.ordered_problems()
        return ordered[0] if ordered else None

    def ordered_problems(self) -> list[Problem]:
        """Truncation first, then the headline, then the rest by position.

        The headline is the lowest record at fault, unless the first range whose root does not
        reproduce ends before it: then the change lies in that range and left no other trace
        there (a record moved away), and the range is the headline.
        """
        rest = sorted(self.problems)
        truncated = [p for p in rest if p.truncation]
        faults = [p for p in rest if not p.consequence and not p.truncation]
        ranges = [p for p in rest if p.consequence and p.end is not None]
        head: list[Problem] = []
        if faults and not (
            ranges and ranges[0].end is not None and ranges[0].end < faults[0].position
        ):
            head = [faults[0]]
        elif ranges:
            head = [ranges[0]]
        elif rest:
            head = [p for p in rest if not p.truncation][:1]
        seen = {id(p) for p in (*truncated, *head)}
        return [*truncated, *head, *(p for p in rest if id(p) not in seen)]

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
            "key_history_records": self.key_history_records,
            "keys": self.keys,
            "trust_root": self.trust_root,
            "genesis": self.genesis,
            "pinned": self.pinned,
            "pinned_by": self.pinned_by if self.pinned else None,
            "witnesses": self.witnesses,
            "not_checked": self.not_checked,
            "first_problem": None if first is None else vars(first),
            "problems": [vars(p) for p in self.ordered_problems()[:100]],
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

    def windows(self) -> dict[bytes, tuple[bytes, bytes]]:
        """Each key's [from, until) as record-time strings: `problem` is None exactly inside."""
        found = {}
        for kid, (_, start, until, compromised) in self.keys.items():
            ends = [end for end in (until, compromised) if end is not None]
            found[kid] = (start, min(ends) if ends else b"\xff")
        return found

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
        replay_versions: Mapping[str, int] | None = None,
        verified: set[bytes] | None = None,
        trust_root: TrustRoot | None = None,
    ) -> None:
        self.keyring = keyring
        self.trust_root = trust_root
        self.deep = deep
        self.trusted_note = trusted_checkpoint
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self.replay = replay
        # The version of each projection `replay` rebuilds: an exported digest of another
        # version is not compared (a different algorithm, not a sign of tampering).
        self.replay_versions = replay_versions or {}
        # Leaf hashes of records whose signature verified (under an unchanged key ring) in an
        # earlier audit by this process; a leaf hash covers every byte, so an edit misses.
        self.verified = verified if verified is not None else set()

    def audit(self, bundle: Source) -> AuditReport:
        report = AuditReport(origin=self.keyring.origin, deep=self.deep)
        problems = report.problems

        def problem(position: int, reason: str) -> None:
            if len(problems) < MAX_PROBLEMS:
                problems.append(Problem(position, reason))

        self._checkpoint_kids: list[tuple[int, str]] = []
        try:
            targets = self._checkpoint_targets(bundle, report, problem)
        except BundleError as exc:
            problem(0, str(exc))
            targets = {}
        self._cut: str | None = None  # why the material's records ended early, if they did
        from ledger.audit.parallel import parallel_scan  # large bundles on all cores

        scanned = parallel_scan(self, bundle, report, targets)
        if scanned is not None:
            history, report.records = scanned
        else:
            history = KeyHistory(self.keyring.origin)
            report.records = self._scan_records(bundle, report, targets, problem, history)
        self._check_keys(history, report, problem)
        for size, (_, label) in sorted(targets.items()):
            if size > report.records:
                cut = "" if self._cut is None else f" ({self._cut})"
                problems.append(
                    Problem(
                        report.verified_size,
                        f"the log is truncated: {label} of size {size} was signed, but the"
                        f" material holds only {report.records} records{cut}; positions from"
                        f" {report.verified_size} on are not covered by a reproduced root",
                        truncation=True,
                    )
                )
                break
        if isinstance(bundle, Bundle):
            for position, reason in manifest_problems(
                bundle.manifest,
                origin=self.keyring.origin,
                records=report.records,
                checkpoints=report.checkpoints,
                projections=bundle.projections() is not None,
            ):
                problem(position, reason)
        if self.replay is not None:
            try:
                self._replay(bundle, report, problem)
            except (ValueError, KeyError, TypeError, AttributeError, BundleError) as exc:
                # Records that do not parse were reported above; the projections then cannot
                # be rebuilt from them, which is a consequence, not the headline.
                problems.append(
                    Problem(
                        report.records,
                        f"the projections cannot be replayed from these records: {exc}",
                        consequence=True,
                    )
                )
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
            self._checkpoint_kids.append((size, verified.kid))
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
        history: KeyHistory,
    ) -> int:
        origin = self.keyring.origin.encode()
        keyring_stream = KEYRING_STREAM.encode()
        introduced: set[bytes] = set()
        where = getattr(bundle, "where", None)

        def gap(position: int, reason: str) -> None:
            # Where the missing versions were is not known: a root range that does not
            # reproduce, when there is one, says more precisely where the change is.
            if len(report.problems) < MAX_PROBLEMS:
                report.problems.append(Problem(position, reason, consequence=True))

        keys = _Keys(self.keyring)
        # Per stream: the newest version, its leaf hash (raw: the next record's link is compared
        # in hex), log position and record. One small entry per stream is all that grows.
        heads: dict[bytes, tuple[int, bytes, int, bytes]] = {}
        peaks: list[bytes] = []
        last_good = 0
        sha256 = hashlib.sha256
        deep = _DeepVerifier(keys, self.workers) if self.deep else None
        count = 0

        def cut(position: int, reason: str) -> None:
            self._cut = reason
            problem(position, reason)

        def check(position: int, data: bytes, stored: bytes, leaf: bytes) -> None:
            """Every check of one record, with the reasons for people (the full path)."""
            nonlocal introduced
            env = scan(data)
            if env is None:
                line = f"{where(position)}: " if where is not None else ""
                problem(position, line + _diagnose(data, stored))
                if position == 0:
                    problem(0, "log position 0 is not the key-ring genesis")
                return
            if env.stream == keyring_stream or position == 0:
                self._key_change(position, data, history, problem)
                introduced = {kid.encode() for kid in history.keys}
            reason = _check_envelope(env, stored, origin, keys)
            if reason is None and env.kid not in introduced:
                reason = history.check_signer(position, env.kid.decode(errors="replace"))
            if reason is not None:
                problem(position, reason)
            head = heads.get(env.stream)
            if head is None:
                if env.version != 1 or env.prev is not None:
                    gap(
                        position,
                        f"stream {_t(env.stream)} starts at version {env.version}"
                        + ("" if env.prev is None else " with a predecessor digest"),
                    )
            elif env.version != head[0] + 1:
                gap(
                    position,
                    f"stream {_t(env.stream)}: version {env.version} follows version"
                    f" {head[0]} (log position {head[2]})",
                )
            elif env.prev != hexlify(head[1]):
                problem(
                    head[2],
                    f"stream {_t(env.stream)} version {head[0]} does not match the"
                    f" digest that version {env.version} (log position {position}) names",
                )
            heads[env.stream] = (env.version, leaf, position, data)
            if deep is not None:
                deep.add(position, env, data)

        # The fast path: a record whose envelope has the exact canonical shape and passes every
        # check is accepted without building an envelope; anything else (and every record of a
        # deep audit, whose signatures need the envelope) goes through `check` above, which makes
        # the same checks and says what is wrong.
        form = FastForm(origin, keys.windows())
        fields_of = form.fields if deep is None and form.enabled else None
        sizes = iter(sorted(size for size in targets if size > 0))
        next_target = next(sizes, -1)
        progress = self.progress
        position = 0
        for datas, places in _guarded_batches(_batches(bundle), cut):
            first = position
            for data, stored in zip(datas, places, strict=True):
                leaf = sha256(b"\x00" + data).digest()
                fields = None if fields_of is None or position == 0 else fields_of(data)
                if fields is None:
                    check(position, data, stored, leaf)
                else:
                    kid, prev, stream, version_bytes, type_ = fields
                    head = heads.get(stream)
                    version = int(version_bytes)
                    if (
                        stored != b"%s,%s,%s" % (stream, version_bytes, type_)
                        or kid not in introduced
                        or stream == keyring_stream
                        or (
                            version != head[0] + 1 or prev != hexlify(head[1])
                            if head is not None
                            else prev is not None or version != 1
                        )
                    ):
                        check(position, data, stored, leaf)
                    else:
                        heads[stream] = (version, leaf, position, data)
                # RFC 9162 root over the leaves so far, kept as the compact range's peaks.
                index, node = position, leaf
                while index & 1:
                    node = sha256(b"\x01" + peaks.pop() + node).digest()
                    index >>= 1
                peaks.append(node)
                position += 1
                if position == next_target:
                    next_target = next(sizes, -1)
                    target = targets[position]
                    if root_from_peaks(peaks) != target[0]:
                        problems = report.problems
                        if len(problems) < MAX_PROBLEMS:
                            problems.append(
                                Problem(
                                    last_good,
                                    f"log positions {last_good} to {position - 1} do not"
                                    f" reproduce the signed root of {target[1]} of size {position}",
                                    consequence=True,
                                    end=position - 1,
                                )
                            )
                    else:
                        last_good = report.verified_size = position
            if progress is not None:
                for shown in range(-(-first // 1000) * 1000, position, 1000):
                    progress(shown)
            del datas, places  # before the next batch is read
        count = position
        report.streams = len(heads)
        if deep is not None:
            for failed in deep.finish():
                problem(failed, "signature does not verify")
            report.signatures_checked = deep.count
        else:
            for version, leaf, at, data in heads.values():
                digest = hexlify(leaf)
                report.signatures_checked += 1
                if digest in self.verified:
                    continue
                newest = scan(data)
                assert newest is not None
                try:
                    signed = open_record(data, newest.stream.decode(errors="replace"), version)
                    verify_signature(signed, self.keyring)
                except RecordIntegrityError as exc:
                    problem(at, f"newest record of the stream: {exc}")
                    continue
                self.verified.add(digest)
        if progress is not None:
            progress(count)
        return count

    def _key_change(
        self, position: int, data: bytes, history: KeyHistory, problem: Callable[[int, str], None]
    ) -> None:
        try:
            env = scan(data)
            assert env is not None
            signed = open_record(data, env.stream.decode(errors="replace"), env.version)
            if position == 0 and signed.record.type != "keyring.genesis":
                problem(0, "log position 0 is not the key-ring genesis")
                return
            history.apply(position, signed)
        except (KeyHistoryError, RecordIntegrityError) as exc:
            problem(position, getattr(exc, "reason", str(exc)))

    def _check_keys(
        self, history: KeyHistory, report: AuditReport, problem: Callable[[int, str], None]
    ) -> None:
        """The shown key ring against the derived one; checkpoint keys; the trust root."""
        derived = history.final()
        report.key_history_records = history.records
        report.keys = len(derived.keys)
        if history.genesis is not None:
            report.genesis = TrustRoot.from_genesis(history.genesis).fingerprint
            difference = compare(self.keyring, derived)
            if difference is not None:
                problem(report.records, f"keyring.json is not the key history: {difference}")
        for size, kid in self._checkpoint_kids:
            at = history.introduced.get(kid)
            if at is None or at >= size:
                problem(
                    size - 1,
                    f"checkpoint of size {size} is signed by key {kid}, which the key history"
                    " had not introduced by then",
                )
        if self.trust_root is not None:
            try:
                self.trust_root.check(self.keyring.origin, history.genesis)
            except TrustRootError as exc:
                problem(0, f"does not chain to the trust root {self.trust_root.fingerprint}: {exc}")
            else:
                report.trust_root = self.trust_root.fingerprint

    def _replay(
        self, bundle: Source, report: AuditReport, problem: Callable[[int, str], None]
    ) -> None:
        """Rebuild each exported projection from the records it covered, compare digests."""
        assert self.replay is not None
        expected = bundle.projections() or {}
        by_position: dict[int, list[str]] = {}
        for name, exported in expected.items():
            known = self.replay_versions.get(name)
            if known is not None and exported.get("version") != known:
                report.projections[name] = "unknown to this auditor"
                problem(
                    report.records,
                    f"projection {name} was exported as version {exported.get('version')};"
                    f" this auditor replays version {known}",
                )
                continue
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


Batch = tuple[list[bytes], list[bytes]]


def _batches(bundle: Source) -> Iterator[Batch]:
    """The records as (leaf data, as stored) lists; a BundleError after every record before it."""
    batches: Callable[[], Iterator[Batch]] | None = getattr(bundle, "batches", None)
    if batches is not None:
        yield from batches()
        return
    datas: list[bytes] = []
    places: list[bytes] = []
    try:
        for data, stored in bundle.records():
            datas.append(data)
            places.append(stored)
            if len(datas) >= BATCH:
                yield datas, places
                datas, places = [], []
    except BundleError:
        if datas:
            yield datas, places
        raise
    if datas:
        yield datas, places


def _guarded_batches(
    batches: Iterator[Batch], problem: Callable[[int, str], None]
) -> Iterator[Batch]:
    """The batches, ending with a problem (not a traceback) where the material is malformed."""
    position = 0
    try:
        for batch in batches:
            count = len(batch[0])
            yield batch
            del batch  # before the next batch is read
            position += count
    except BundleError as exc:
        problem(position, str(exc))


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
