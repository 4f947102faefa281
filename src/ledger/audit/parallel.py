"""The bundle audit spread over processes, for large bundles.

`records.jsonl` is cut into chunks at record boundaries, each chunk a power of two of records,
so every full chunk is a complete subtree of the RFC 9162 tree. A worker process audits one
chunk on the fast path (the record's form, stored place, origin, key window, chain links inside
the chunk, leaf hashes; the per-record checks are compiled in `_chunkscan` when the install
could build it, else the same checks run in Python) and returns, per stream, the chunk's first
record (to check its link across the boundary), its last record (the stream's head) and whether
that record's signature verifies, the span of positions each key signed, the chunk's subtree
peaks at every checkpoint size inside it, and the key-ring records (which the key history needs
in log order, so they are checked here, in this process). The merge checks the links across
boundaries, every checkpoint's root, that every key was introduced before it signed, and that
the newest record of every stream carries a good signature (each stream's last chunk says).

This path only ever says "all is well": at the first sign of anything else (a record the fast
path does not accept, a broken link, a root that does not reproduce, a signature that fails) it
gives up and the auditor runs its one-process audit, which finds and words every problem. A
report is therefore the same word for word whichever path ran.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from bisect import bisect_left
from collections.abc import Iterator, Set
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from operator import methodcaller
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.audit.bundle import RECORDS, STORED, Bundle
from ledger.audit.fastform import FastForm
from ledger.integrity.key_history import KEYRING_STREAM, KeyHistory
from ledger.integrity.merkle import node_hash, root_from_peaks
from ledger.integrity.scan import scan

if TYPE_CHECKING:
    from ledger.audit.auditor import Auditor, AuditReport, _Keys

try:  # the per-record checks compiled, when the install could build them
    from ledger.audit import _chunkscan
except ImportError:  # pragma: no cover - an install without a C compiler
    _chunkscan = None  # type: ignore[assignment]

MIN_RECORDS = 50_000  # smaller bundles are audited in one process
MIN_CHUNK = 1 << 12  # records per chunk, at least (a power of two)
BLOCK = 1 << 20
HEADER = b"stream,version,type\n"
_KEYRING = KEYRING_STREAM.encode()
_LEAF, _NODE = b"\x00", b"\x01"  # RFC 9162's prefixes of leaf and node hashes
_SHA256 = hashlib.sha256
_DIGEST = methodcaller("digest")

Head = tuple[int, bytes, int, bytes]  # version, leaf hash in hex, position, record


@dataclass
class Chunk:
    """What a worker found in one chunk that audits clean on the fast path."""

    count: int
    firsts: dict[bytes, tuple[int, bytes | None, int]]  # stream: version, prev, position
    heads: dict[bytes, Head]
    kids: dict[bytes, tuple[int, int]]  # kid: first and last position it signed
    specials: list[tuple[int, bytes, bytes, bytes]]  # position, record, stored, leaf
    target_peaks: dict[int, list[bytes]]  # checkpoint size: the chunk's peaks up to it
    peaks: list[bytes]
    unsigned: set[bytes]  # streams whose newest record here has no good signature


@dataclass(frozen=True)
class _Task:
    records: Path
    stored: Path
    records_range: tuple[int, int]
    stored_range: tuple[int, int]
    first: int
    origin: bytes
    windows: dict[bytes, tuple[bytes, bytes]]
    publics: dict[bytes, bytes]  # each records key's kid: its public key
    verified: frozenset[bytes]  # leaf hashes (hex) whose signature an earlier audit verified
    targets: frozenset[int]


def _read(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def audit_chunk(task: _Task) -> Chunk | None:
    """One chunk on the fast path (runs in a worker process); None if anything is off."""
    block = _read(task.records, *task.records_range)
    stored = _read(task.stored, *task.stored_range)
    if not block.endswith(b"\n") or not stored.endswith(b"\n"):
        return None
    # Each record after its leaf hash's prefix, then the leaf hashes, then the chunk's subtrees
    # level by level (a whole level per call; an odd last node waits).
    if _chunkscan is not None:
        lines = _chunkscan.prefixed(block, 0)
        pairs = _chunkscan.pairs
    else:
        lines = [_LEAF + line for line in block.split(b"\n")[:-1]]
        pairs = _pairs
    if lines is None:
        return None
    leaves = list(map(_DIGEST, map(_SHA256, lines)))
    levels = [leaves]
    while len(levels[-1]) > 1:
        levels.append(list(map(_DIGEST, map(_SHA256, pairs(levels[-1])))))
    first = task.first
    form = FastForm(task.origin, task.windows)
    checked = None
    if _chunkscan is not None:
        checked = _chunkscan.check(
            lines, stored, leaves, first, form.origin_part, task.windows, _KEYRING
        )
    places: list[bytes] | None = None
    if checked is None:
        places = stored.split(b"\n")[:-1]
        if len(places) != len(lines):
            return None
        datas = [line[1:] for line in lines]
        checked = _check_records(form, datas, places, leaves, first)
        if checked is None:
            return None
    firsts, lasts, kids, special_at = checked
    hexlify = binascii.hexlify
    heads = {
        stream: (version, hexlify(leaves[i]), first + i, lines[i][1:])
        for stream, (version, i) in lasts.items()
    }
    specials = []
    if special_at:
        places = stored.split(b"\n") if places is None else places
        specials = [(first + i, lines[i][1:], places[i], leaves[i]) for i in special_at]
    target_peaks = {size: _peaks(levels, size - first) for size in task.targets}
    peaks = _peaks(levels, len(leaves))
    # The newest signature of each stream in the chunk, here on the pool: the merge keeps the
    # verdict of each stream's last chunk (the deep audit verifies every signature so).
    from ledger.audit.auditor import _verify_chunk  # (imported late: the auditor imports us)

    items, unsigned = _signature_items(heads, task.publics, task.verified)
    failed = _verify_chunk(items)
    if failed:
        stream_at = {position: stream for stream, (_, _, position, _) in heads.items()}
        unsigned.update(stream_at[position] for position in failed)
    return Chunk(len(leaves), firsts, heads, kids, specials, target_peaks, peaks, unsigned)


def _pairs(level: list[bytes]) -> list[bytes]:
    """The inputs of the parents' hashes of a level's pairs (`_chunkscan.pairs`, in Python)."""
    return [_NODE + left + right for left, right in zip(level[::2], level[1::2], strict=False)]


Checked = tuple[
    dict[bytes, tuple[int, bytes | None, int]],  # stream: version, prev, position of its first
    dict[bytes, tuple[int, int]],  # stream: version and index in the chunk of its newest
    dict[bytes, tuple[int, int]],  # kid: first and last position it signed
    list[int],  # indexes of the records left to the key history's checks
]


def _check_records(
    form: FastForm, datas: list[bytes], places: list[bytes], leaves: list[bytes], first: int
) -> Checked | None:
    """The per-record checks of a chunk (what `_chunkscan.check` does, compiled): the fast
    form, the stored place, the key window and the chain links inside the chunk."""
    keyring_place = _KEYRING + b","
    fields_of = form.fields
    hexlify = binascii.hexlify
    firsts: dict[bytes, tuple[int, bytes | None, int]] = {}
    lasts: dict[bytes, tuple[int, int]] = {}
    kid_first: dict[bytes, int] = {}
    kid_last: dict[bytes, int] = {}
    special_at: list[int] = []
    for i, (data, stored) in enumerate(zip(datas, places, strict=True)):
        position = first + i
        fields = None if position == 0 else fields_of(data)
        if fields is None or fields[2] == _KEYRING:
            if position != 0 and fields is None and not stored.startswith(keyring_place):
                return None
            special_at.append(i)
            continue
        kid, prev, stream, version_bytes, type_ = fields
        if stored != b"%s,%s,%s" % (stream, version_bytes, type_):
            return None
        version = int(version_bytes)
        last = lasts.get(stream)
        if last is None:
            firsts[stream] = (version, prev, position)
        elif prev != hexlify(leaves[last[1]]) or version != last[0] + 1:
            return None
        lasts[stream] = (version, i)
        if kid not in kid_first:
            kid_first[kid] = position
        kid_last[kid] = position
    kids = {kid: (start, kid_last[kid]) for kid, start in kid_first.items()}
    return firsts, lasts, kids, special_at


def _peaks(levels: list[list[bytes]], count: int) -> list[bytes]:
    """The peaks of the first `count` leaves: the complete subtrees, largest first."""
    found = []
    start = 0
    for height in range(len(levels) - 1, -1, -1):
        if count >> height & 1:
            found.append(levels[height][start >> height])
            start += 1 << height
    return found


def _starts(path: Path, skip: int, every: int, end: list[int]) -> Iterator[int]:
    """Byte offsets where lines 0, every, 2 * every, ... start (after `skip` bytes), as the file
    is read; then `end` is set to the number of lines (-1 when the file does not end in a
    newline) and the file's size."""
    yield skip
    count = 0
    size = skip
    due = every  # the next line whose start is wanted
    last = b"\n"
    with path.open("rb") as handle:
        handle.seek(skip)
        while block := handle.read(BLOCK):
            left = block.count(b"\n")
            at = 0
            while count + left >= due:
                at = _past_newlines(block, at, due - count)
                left -= due - count
                count = due
                yield size + at
                due += every
            count += left
            size += len(block)
            last = block[-1:]
    end[:] = [count if last == b"\n" else -1, size]


def _past_newlines(block: bytes, at: int, wanted: int) -> int:
    """The offset just past the `wanted`-th newline of `block` from `at` (it has that many):
    long stretches are counted in C at the lines' mean length so far, and only the last few
    newlines are looked for one by one."""
    mean = 64.0  # bytes per line, as counted so far
    while wanted > 16:
        reach = at + int(mean * wanted * 0.9) + 1
        found = block.count(b"\n", at, reach)
        if found >= wanted:
            mean /= 2  # overshot: count a shorter stretch
            continue
        mean = (reach - at) / found if found else mean * 2
        at = reach
        wanted -= found
    for _ in range(wanted):
        at = block.index(b"\n", at) + 1
    return at


def _chunk_size(hint: int, workers: int) -> int:
    size = MIN_CHUNK
    while size * 2 * 4 * workers <= hint:
        size *= 2
    return size


def parallel_scan(
    auditor: Auditor,
    bundle: object,
    report: AuditReport,
    targets: dict[int, tuple[bytes, str]],
) -> tuple[KeyHistory, int] | None:
    """Audit the records of a large bundle on all cores: (key history, records) when every
    check passes, else None (nothing is reported: the one-process audit then runs)."""
    if (
        not isinstance(bundle, Bundle)
        or auditor.deep
        or auditor.workers < 2
        or bundle.size_hint() < MIN_RECORDS
    ):
        return None
    # The auditor imports this module lazily.
    from ledger.audit.auditor import _Keys as Keys
    from ledger.audit.auditor import _verify_chunk

    keys = Keys(auditor.keyring)
    origin = auditor.keyring.origin.encode()
    if not FastForm(origin, {}).enabled:
        return None
    records, stored = bundle.directory / RECORDS, bundle.directory / STORED
    with stored.open("rb") as handle:
        if handle.readline() != HEADER:
            return None
    every = _chunk_size(bundle.size_hint(), auditor.workers)
    sizes = frozenset(size for size in targets if size > 0)
    windows = keys.windows()
    publics = {kid: entry[0].public_key for kid, entry in keys.keys.items()}
    verified = frozenset(auditor.verified)

    def task(number: int, records_range: tuple[int, int], stored_range: tuple[int, int]) -> _Task:
        first = number * every
        return _Task(
            records,
            stored,
            records_range,
            stored_range,
            first,
            origin,
            windows,
            publics,
            verified,
            frozenset(s for s in sizes if first < s <= first + every),
        )

    try:
        with ProcessPoolExecutor(max_workers=auditor.workers) as pool:
            # Each chunk goes to the pool as soon as both files have been read past its end, so
            # the workers start while this process still looks for the later boundaries.
            futures: list[Future[Chunk | None]] = []
            record_end: list[int] = []
            stored_end: list[int] = []
            record_starts = _starts(records, 0, every, record_end)
            stored_starts = _starts(stored, len(HEADER), every, stored_end)
            starts = zip(record_starts, stored_starts, strict=False)
            begin = next(starts)
            for here in starts:
                futures.append(
                    pool.submit(
                        audit_chunk, task(len(futures), (begin[0], here[0]), (begin[1], here[1]))
                    )
                )
                begin = here
            for rest in (record_starts, stored_starts):
                for _ in rest:
                    pass  # one file ended first: read the other to its end, to count its lines
            count, record_size = record_end or (-1, 0)
            stored_count, stored_size = stored_end or (-2, 0)
            if count <= 0 or count != stored_count or any(size > count for size in targets):
                for future in futures:
                    future.cancel()
                return None
            if begin[0] < record_size:  # the last chunk, short of `every` records
                futures.append(
                    pool.submit(
                        audit_chunk,
                        task(len(futures), (begin[0], record_size), (begin[1], stored_size)),
                    )
                )
            merged = _merge(auditor, futures, every, targets, keys, origin)
            if merged is None:
                for future in futures:
                    future.cancel()
                return None
            history, heads, special_heads = merged
    except (OSError, BrokenProcessPool):
        return None  # no workers to be had: the one-process audit runs
    # The workers verified the newest signature of every stream they saw; the key ring's
    # streams (checked here, in log order) are left, a handful.
    items, unreadable = _signature_items(special_heads, publics, auditor.verified)
    if unreadable or _verify_chunk(items):
        return None
    auditor.verified.update(digest for _, digest, _, _ in heads.values())
    report.streams = len(heads)
    report.signatures_checked = len(heads)
    report.verified_size = max(sizes, default=0)
    if auditor.progress is not None:
        auditor.progress(count)
    return history, count


SignatureItem = tuple[int, bytes, bytes, bytes]  # position, signed bytes, signature, key


def _signature_items(
    heads: dict[bytes, Head], publics: dict[bytes, bytes], verified: Set[bytes]
) -> tuple[list[SignatureItem], set[bytes]]:
    """What `_verify_chunk` needs to check each stream's newest record not verified before,
    and the streams whose newest record has no records key or an unreadable signature. Every
    head passed the fast path or the full envelope checks, key windows included: what is left
    to check is the signature itself."""
    items: list[SignatureItem] = []
    unreadable: set[bytes] = set()
    for stream, (_, digest, position, data) in heads.items():
        if digest in verified:
            continue
        env = scan(data)
        public = None if env is None else publics.get(env.kid)
        if env is None or public is None:
            unreadable.add(stream)
            continue
        try:
            signature = base64.b64decode(env.sig, validate=True)
        except ValueError:
            unreadable.add(stream)
            continue
        items.append((position, env.message(data), signature, public))
    return items, unreadable


def _merge(
    auditor: Auditor,
    futures: list[Future[Chunk | None]],
    every: int,
    targets: dict[int, tuple[bytes, str]],
    keys: _Keys,
    origin: bytes,
) -> tuple[KeyHistory, dict[bytes, Head], dict[bytes, Head]] | None:
    """Chunks in log order: links across boundaries, roots, key-ring records, key spans, and
    the workers' verdicts on each stream's newest signature. (The key history, every stream's
    head, and the heads of the streams checked here, whose signatures are left to check.)"""
    heads: dict[bytes, Head] = {}
    unsigned: set[bytes] = set()
    prefix: list[bytes] = []  # the peaks of the full chunks so far
    specials: list[tuple[int, bytes, bytes, bytes]] = []
    spans: list[tuple[bytes, int, int]] = []
    progress = auditor.progress
    done = 0
    for number, future in enumerate(futures):
        chunk = future.result()
        if chunk is None:
            return None
        for stream, (version, prev, _) in chunk.firsts.items():
            head = heads.get(stream)
            if (
                (prev is not None or version != 1)
                if head is None
                else (prev != head[1] or version != head[0] + 1)
            ):
                return None
        heads.update(chunk.heads)
        unsigned.difference_update(chunk.heads)  # a stream's last chunk has the last word
        unsigned.update(chunk.unsigned)
        for size, local in chunk.target_peaks.items():
            if root_from_peaks([*prefix, *local]) != targets[size][0]:
                return None
        if chunk.count == every:
            at, node = number, chunk.peaks[0]
            while at & 1:
                node = node_hash(prefix.pop(), node)
                at >>= 1
            prefix.append(node)
        specials.extend(chunk.specials)
        spans.extend((kid, first, last) for kid, (first, last) in chunk.kids.items())
        if progress is not None:
            for shown in range(-(-done // 1000) * 1000, done + chunk.count, 1000):
                progress(shown)
        done += chunk.count
    checked = _check_specials(auditor, specials, keys, origin)
    if checked is None:
        return None
    history, special_heads, changes = checked
    if unsigned or heads.keys() & special_heads.keys():
        return None
    # Every record on the fast path was signed by a key the history had introduced by then.
    changed_at = [position for position, _ in changes]
    for kid, first, last in spans:
        start = bisect_left(changed_at, first) - 1
        if start < 0 or any(
            kid not in introduced
            for _, introduced in changes[start : bisect_left(changed_at, last)]
        ):
            return None
    return history, {**heads, **special_heads}, special_heads


def _check_specials(
    auditor: Auditor,
    specials: list[tuple[int, bytes, bytes, bytes]],
    keys: _Keys,
    origin: bytes,
) -> tuple[KeyHistory, dict[bytes, Head], list[tuple[int, set[bytes]]]] | None:
    """The key-ring records (and position 0) as the one-process audit checks them, in order:
    the key history, heads, and the keys introduced after each; None at any problem."""
    from ledger.audit.auditor import _check_envelope, _t

    keyring_stream = KEYRING_STREAM.encode()
    history = KeyHistory(auditor.keyring.origin)
    heads: dict[bytes, Head] = {}
    changes: list[tuple[int, set[bytes]]] = []
    introduced: set[bytes] = set()
    found: list[str] = []

    def problem(position: int, reason: str) -> None:
        found.append(f"{position}: {reason}")

    for position, data, stored, leaf in sorted(specials):
        env = scan(data)
        if env is None:
            return None
        if env.stream == keyring_stream or position == 0:
            auditor._key_change(position, data, history, problem)
            introduced = {kid.encode() for kid in history.keys}
            changes.append((position, introduced))
        reason = _check_envelope(env, stored, origin, keys)
        if reason is None and env.kid not in introduced:
            reason = history.check_signer(position, _t(env.kid))
        head = heads.get(env.stream)
        if (
            found
            or reason is not None
            or (
                (env.version != 1 or env.prev is not None)
                if head is None
                else (env.version != head[0] + 1 or env.prev != head[1])
            )
        ):
            return None
        heads[env.stream] = (env.version, leaf.hex().encode(), position, data)
    return history, heads, changes
