"""Figures over an exported auditor bundle: the audit and the deep audit against hashlib and a raw
Ed25519 verify pool, the audit's memory, and replaying every projection in memory."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.figures import PEAK_RSS_KB, Figure, best_rates, ratio_figure, timed

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3  # runs of each side of a ratio, taking turns; each side's best counts
TURNS = f"the best of {ROUNDS} runs each, taking turns"


def lines(path: Path) -> Iterable[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            yield line[:-1]


def audit_figures(bundle: Path) -> list[Figure]:
    from ledger.audit.auditor import DEEP_CHUNK, Auditor, _verify_chunk
    from ledger.audit.bundle import Bundle
    from ledger.integrity.scan import scan

    source = Bundle(bundle)
    keyring = source.keyring()
    records = bundle / "records.jsonl"

    def hashing() -> int:
        n = 0
        for data in lines(records):
            hashlib.sha256(b"\x00" + data).digest()
            n += 1
        return n

    def floor() -> int:
        """What no audit can skip: reading the records and the RFC 9162 tree over them."""
        sha256 = hashlib.sha256
        peaks: list[bytes] = []
        position = 0
        for datas, _ in source.batches():
            for data in datas:
                index, node = position, sha256(b"\x00" + data).digest()
                while index & 1:
                    node = sha256(b"\x01" + peaks.pop() + node).digest()
                    index >>= 1
                peaks.append(node)
                position += 1
        return position

    def audit() -> int:
        report = Auditor(keyring).audit(source)
        assert report.ok, report.first_problem
        return report.records

    def deep() -> int:
        report = Auditor(keyring, deep=True).audit(source)
        assert report.ok, report.first_problem
        return report.records

    def raw_verify() -> float:
        """The same signatures, messages and keys, verified by a process pool on all cores."""
        chunks: list[list[tuple[int, bytes, bytes, bytes]]] = [[]]
        for position, data in enumerate(lines(records)):
            env = scan(data)
            assert env is not None
            public = keyring.get(env.kid.decode()).public_key
            chunks[-1].append((position, env.message(data), base64.b64decode(env.sig), public))
            if len(chunks[-1]) >= DEEP_CHUNK:
                chunks.append([])
        count = sum(len(c) for c in chunks)
        started = time.perf_counter()
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            failed = [f for result in pool.map(_verify_chunk, chunks) for f in result]
        assert not failed
        return count / (time.perf_counter() - started)

    best = best_rates({"hash": hashing, "floor": floor, "audit": audit}, ROUNDS)
    hash_rate, floor_rate, audit_rate = best["hash"], best["floor"], best["audit"]
    deep_rate = timed(deep)  # minutes at a million records, and far from its goal: one run
    raw_rate = raw_verify()
    return [
        ratio_figure(
            "reading, leaf hashes and tree alone (what no audit can skip)",
            "bundle",
            floor_rate,
            "records/s",
            hash_rate,
            None,
            "none: shows how much of the audit's budget is left",
            detail=TURNS,
        ),
        ratio_figure(
            "audit (leaves, roots, checkpoints, chains, newest signatures)",
            "bundle",
            audit_rate,
            "records/s",
            hash_rate,
            0.5,
            ">= 0.5x hashlib alone",
            detail=TURNS,
        ),
        ratio_figure(
            "deep audit (every signature, all cores)",
            "bundle",
            deep_rate,
            "records/s",
            raw_rate,
            0.8,
            ">= 0.8x raw Ed25519 verify pool",
        ),
    ]


def replay_figures(bundle: Path) -> list[Figure]:
    from projections import ALL
    from projections.base import Event, replay_all

    def decode() -> int:
        n = 0
        for position, data in enumerate(lines(bundle / "records.jsonl")):
            Event.from_record(position, data)
            n += 1
        return n

    def replay() -> int:
        count = 0

        def counted() -> Iterable[bytes]:
            nonlocal count
            for data in lines(bundle / "records.jsonl"):
                count += 1
                yield data

        replay_all(ALL, counted())
        return count

    best = best_rates({"decode": decode, "replay": replay}, ROUNDS)
    return [
        ratio_figure(
            "replay every projection in memory",
            "bundle",
            best["replay"],
            "records/s",
            best["decode"],
            0.5,
            ">= 0.5x decoding alone",
            detail=TURNS,
        )
    ]


def audit_memory(bundle: Path) -> Figure:
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from ledger.audit.auditor import Auditor; from ledger.audit.bundle import Bundle;"
        "from pathlib import Path; b = Bundle(Path(sys.argv[1]));"
        "r = Auditor(b.keyring()).audit(b); assert r.ok;"
        f"print({PEAK_RSS_KB})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bundle), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    megabytes = int(out.strip()) / 1024
    return Figure(
        "peak RSS of the bundle audit",
        "bundle",
        megabytes,
        "MB",
        None,
        None,
        "< 300 MB",
        megabytes < 300,
    )
