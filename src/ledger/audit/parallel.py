"""The bundle audit spread over processes, for large bundles.

`records.jsonl` is cut into chunks at record boundaries, each chunk a power of two of records,
so every full chunk is a complete subtree of the RFC 9162 tree. A worker process audits one
chunk on the fast path (the record's form, stored place, origin, key window, chain links inside
the chunk, leaf hashes) and returns, per stream, the chunk's first record (to check its link
across the boundary), its last record (the stream's head), the span of positions each key
signed, the chunk's subtree peaks at every checkpoint size inside it, and the key-ring records
(which the key history needs in log order, so they are checked here, in this process). The
merge checks the links across boundaries, every checkpoint's root, that every key was
introduced before it signed; the newest signature of every stream is verified on the pool.

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
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.audit.bundle import RECORDS, STORED, Bundle
from ledger.audit.fastform import FastForm
from ledger.integrity.key_history import KEYRING_STREAM, KeyHistory
from ledger.integrity.merkle import node_hash, root_from_peaks
from ledger.integrity.scan import scan

if TYPE_CHECKING:
    from ledger.audit.auditor import Auditor, AuditReport, _Keys

MIN_RECORDS = 50_000  # smaller bundles are audited in one process
MIN_CHUNK = 1 << 12  # records per chunk, at least (a power of two)
BLOCK = 1 << 20
HEADER = b"stream,version,type\n"

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


@dataclass(frozen=True)
class _Task:
    records: Path
    stored: Path
    records_range: tuple[int, int]
    stored_range: tuple[int, int]
    first: int
    origin: bytes
    windows: dict[bytes, tuple[bytes, bytes]]
    targets: frozenset[int]


def _read(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start)


def audit_chunk(task: _Task) -> Chunk | None:
    """One chunk on the fast path (runs in a worker process); None if anything is off."""
    datas = _read(task.records, *task.records_range).split(b"\n")
    places = _read(task.stored, *task.stored_range).split(b"\n")
    if datas.pop() != b"" or places.pop() != b"" or len(datas) != len(places):
        return None
    keyring_stream = KEYRING_STREAM.encode()
    keyring_place = keyring_stream + b","
    form = FastForm(task.origin, task.windows)
    fields_of = form.fields
    sha256 = hashlib.sha256
    hexlify = binascii.hexlify
    firsts: dict[bytes, tuple[int, bytes | None, int]] = {}
    heads: dict[bytes, Head] = {}
    kid_first: dict[bytes, int] = {}
    kid_last: dict[bytes, int] = {}
    specials: list[tuple[int, bytes, bytes, bytes]] = []
    leaves = [sha256(b"\x00" + data).digest() for data in datas]
    position = task.first
    for data, stored, leaf in zip(datas, places, leaves, strict=True):
        fields = None if position == 0 else fields_of(data)
        if fields is None or fields[2] == keyring_stream:
            if position != 0 and fields is None and not stored.startswith(keyring_place):
                return None
            specials.append((position, data, stored, leaf))
        else:
            kid, prev, stream, version_bytes, type_ = fields
            if stored != b"%s,%s,%s" % (stream, version_bytes, type_):
                return None
            version = int(version_bytes)
            head = heads.get(stream)
            if head is None:
                firsts[stream] = (version, prev, position)
            elif prev != head[1] or version != head[0] + 1:
                return None
            heads[stream] = (version, hexlify(leaf), position, data)
            if kid not in kid_first:
                kid_first[kid] = position
            kid_last[kid] = position
        position += 1
    # The chunk's subtrees level by level (a whole level per call), then the peaks wanted.
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node waits
        levels.append([sha256(b"\x01" + a + b).digest() for a, b in pairs])
    target_peaks = {size: _peaks(levels, size - task.first) for size in task.targets}
    peaks = _peaks(levels, len(leaves))
    index = len(leaves)
    kids = {kid: (first, kid_last[kid]) for kid, first in kid_first.items()}
    return Chunk(index, firsts, heads, kids, specials, target_peaks, peaks)


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
                for _ in range(due - count):
                    at = block.index(b"\n", at) + 1
                    left -= 1
                    count += 1
                yield size + at
                due += every
            count += left
            size += len(block)
            last = block[-1:]
    end[:] = [count if last == b"\n" else -1, size]


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
            history, heads = merged
            # The newest signature of every stream, on the pool, as the deep audit verifies
            # every signature: the signed bytes, the signature and the records key.
            items = _newest_signatures(heads, auditor.verified, keys)
            if items is None:
                return None
            share = -(-len(items) // auditor.workers) or 1
            checks = [
                pool.submit(_verify_chunk, items[i : i + share])
                for i in range(0, len(items), share)
            ]
            if any(check.result() for check in checks):
                return None
    except (OSError, BrokenProcessPool):
        return None  # no workers to be had: the one-process audit runs
    auditor.verified.update(digest for _, digest, _, _ in heads.values())
    report.streams = len(heads)
    report.signatures_checked = len(heads)
    report.verified_size = max(sizes, default=0)
    if auditor.progress is not None:
        auditor.progress(count)
    return history, count


def _newest_signatures(
    heads: dict[bytes, Head], verified: set[bytes], keys: _Keys
) -> list[tuple[int, bytes, bytes, bytes]] | None:
    """(position, signed bytes, signature, public key) of each stream's newest record not
    verified before; None if one has no records key or an unreadable signature. Every head
    passed the fast path or the full envelope checks, key windows included: what is left to
    check is the signature itself."""
    items = []
    for _, digest, position, data in heads.values():
        if digest in verified:
            continue
        env = scan(data)
        entry = None if env is None else keys.keys.get(env.kid)
        if env is None or entry is None:
            return None
        try:
            signature = base64.b64decode(env.sig, validate=True)
        except ValueError:
            return None
        items.append((position, env.message(data), signature, entry[0].public_key))
    return items


def _merge(
    auditor: Auditor,
    futures: list[Future[Chunk | None]],
    every: int,
    targets: dict[int, tuple[bytes, str]],
    keys: _Keys,
    origin: bytes,
) -> tuple[KeyHistory, dict[bytes, Head]] | None:
    """Chunks in log order: links across boundaries, roots, key-ring records, key spans."""
    heads: dict[bytes, Head] = {}
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
    if heads.keys() & special_heads.keys():
        return None
    heads.update(special_heads)
    # Every record on the fast path was signed by a key the history had introduced by then.
    changed_at = [position for position, _ in changes]
    for kid, first, last in spans:
        start = bisect_left(changed_at, first) - 1
        if start < 0 or any(
            kid not in introduced
            for _, introduced in changes[start : bisect_left(changed_at, last)]
        ):
            return None
    return history, heads


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
