"""`make bench`: each figure measured next to its baseline in the same run, reported as a ratio.

    python -m bench.run [--events N] [--append N] [--backends sqlite,postgres] [--out FILE]

Writes bench/results/<date>.json with the machine description and prints a table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get(
    "LEDGER_BENCH_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


@dataclass
class Figure:
    name: str
    backend: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    goal: str
    met: bool | None


def timed(work: Callable[[], int]) -> float:
    """Units of work per second."""
    started = time.perf_counter()
    done = work()
    return done / (time.perf_counter() - started)


# -- append ---------------------------------------------------------------------------------


def append_figures(backend: str, count: int, folder: Path, pg_database: str | None) -> list[Figure]:
    from eventsourcing.application import Application

    from bench.baseline import Trainer
    from ledger.clock import ManualClock
    from ledger.config import Settings
    from ledger.domain.actors import Actor, Role
    from ledger.integrity.keyring import KeyDirectory, init_keyring
    from ledger.runtime import open_runtime
    from ledger.store.application import backend_env

    def settings_for(name: str) -> Settings:
        url = None
        if backend == "postgres":
            schema = f"b_{name}_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(
                f"host=127.0.0.1 user=postgres dbname={pg_database}", autocommit=True
            ) as c:
                c.execute(f'CREATE SCHEMA "{schema}"')
            url = f"postgresql://postgres@127.0.0.1:5432/{pg_database}?schema={schema}"
        keys = KeyDirectory(folder / f"keys-{name}")
        if not keys.exists():
            init_keyring(keys, "ledger.bench/log", datetime(2012, 1, 1, tzinfo=UTC))
        return Settings(
            data_dir=folder / f"var-{backend}-{name}",
            keys_dir=keys.path,
            database_url=url,
            origin="ledger.bench/log",
        )

    settings = settings_for("service")
    runtime = open_runtime(settings, clock=ManualClock(datetime(2020, 1, 1, tzinfo=UTC)))
    registrar = Actor("registrar-bench", Role.REGISTRAR)
    person = runtime.service.register_person(registrar, "Bench", "b@example.org", "O", "R", "C").id

    def service_loop() -> int:
        for _ in range(count):
            runtime.service.record_course(registrar, person, date(2019, 6, 1), "R", 10)
        return count

    service_rate = timed(service_loop)
    runtime.close()

    base = settings_for("baseline")
    # The same backend settings as the ledger (including its aggregate cache), a fresh store.
    env = backend_env(replace(base, data_dir=folder / f"baseline-{backend}"))
    app: Application[Any] = Application(env=env)
    trainer = Trainer(region="R", country="C")
    app.save(trainer)

    def baseline_loop() -> int:
        for n in range(count):
            loaded = app.repository.get(trainer.id)
            loaded.deliver(
                f"d{n}", "R", 10, False, None, "registrar-bench", "registrar", "2019-06-01"
            )
            app.save(loaded)
        return count

    baseline_rate = timed(baseline_loop)
    app.close()
    ratio = service_rate / baseline_rate
    return [
        Figure(
            "append: service layer, single-event commands",
            backend,
            service_rate,
            "events/s",
            baseline_rate,
            ratio,
            ">= 0.8x plain library",
            ratio >= 0.8,
        )
    ]


# -- audit and replay -------------------------------------------------------------------------


def write_bundle(folder: Path, count: int) -> Path:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bench.synthetic import ORIGIN, bench_keyring, records
    from ledger.audit.bundle import CHECKPOINTS, FORMAT, KEYRING, MANIFEST, RECORDS, STORED
    from ledger.integrity.keyring import PublicKey, Signer, key_id
    from ledger.integrity.merkle import CompactRange, leaf_hash
    from ledger.integrity.scan import scan
    from ledger.log.checkpoints import sign_checkpoint

    bundle = folder / "bundle"
    bundle.mkdir()
    keyring, _ = bench_keyring()
    note_key = Ed25519PrivateKey.from_private_bytes(b"\x02" * 32)
    note_public = note_key.public_key().public_bytes_raw()
    note_signer = Signer(key_id(note_public), note_key)
    since = datetime(2012, 1, 1, tzinfo=UTC)
    keyring = keyring.with_keys(
        [*keyring.keys, PublicKey(note_signer.kid, "checkpoints", note_public, since)]
    )
    tree = CompactRange()
    with (bundle / RECORDS).open("wb") as out, (bundle / STORED).open("w") as stored:
        stored.write("stream,version,type\n")
        for data in records(count, per_stream=200):
            out.write(data + b"\n")
            env = scan(data)
            assert env is not None
            stored.write(f"{env.stream.decode()},{env.version},{env.type.decode()}\n")
            tree.append(leaf_hash(data))
    note = sign_checkpoint(
        ORIGIN, note_signer, tree.size, tree.root(), datetime(2021, 1, 1, tzinfo=UTC)
    )
    (bundle / CHECKPOINTS).write_text(json.dumps({"size": tree.size, "note": note}) + "\n")
    (bundle / KEYRING).write_text(json.dumps(keyring.to_json()))
    (bundle / MANIFEST).write_text(json.dumps({"format": FORMAT, "records": tree.size}))
    return bundle


def lines(path: Path) -> Iterable[bytes]:
    with path.open("rb") as handle:
        for line in handle:
            yield line[:-1]


def audit_figures(bundle: Path, count: int) -> list[Figure]:
    from ledger.audit.auditor import Auditor
    from ledger.audit.bundle import Bundle

    source = Bundle(bundle)
    keyring = source.keyring()

    def hashing() -> int:
        n = 0
        for data in lines(bundle / "records.jsonl"):
            hashlib.sha256(b"\x00" + data).digest()
            n += 1
        return n

    def audit() -> int:
        report = Auditor(keyring).audit(source)
        assert report.ok, report.first_problem
        return report.records

    def deep() -> int:
        report = Auditor(keyring, deep=True).audit(source)
        assert report.ok, report.first_problem
        return report.records

    def raw_verify() -> int:
        import base64
        from concurrent.futures import ProcessPoolExecutor

        from ledger.audit.auditor import DEEP_CHUNK, _verify_chunk
        from ledger.integrity.scan import scan

        public = keyring.keys[0].public_key
        chunks, chunk = [], []
        for position, data in enumerate(lines(bundle / "records.jsonl")):
            env = scan(data)
            assert env is not None
            chunk.append((position, env.message(data), base64.b64decode(env.sig), public))
            if len(chunk) >= DEEP_CHUNK:
                chunks.append(chunk)
                chunk = []
        chunks.append(chunk)
        started = time.perf_counter()
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            failed = [f for result in pool.map(_verify_chunk, chunks) for f in result]
        assert not failed
        raw_verify.seconds = time.perf_counter() - started  # type: ignore[attr-defined]
        return count

    hash_rate = timed(hashing)
    audit_rate = timed(audit)
    deep_rate = timed(deep)
    raw_verify()
    raw_rate = count / raw_verify.seconds  # type: ignore[attr-defined]
    return [
        Figure(
            "audit (leaves, roots, checkpoints, chains, newest signatures)",
            "bundle",
            audit_rate,
            "records/s",
            hash_rate,
            audit_rate / hash_rate,
            ">= 0.5x hashlib alone",
            audit_rate / hash_rate >= 0.5,
        ),
        Figure(
            "deep audit (every signature, all cores)",
            "bundle",
            deep_rate,
            "records/s",
            raw_rate,
            deep_rate / raw_rate,
            ">= 0.8x raw Ed25519 verify loop",
            deep_rate / raw_rate >= 0.8,
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
        records = list(lines(bundle / "records.jsonl"))
        replay_all(ALL, records)
        return len(records)

    decode_rate = timed(decode)
    replay_rate = timed(replay)
    return [
        Figure(
            "replay all projections",
            "memory",
            replay_rate,
            "records/s",
            decode_rate,
            replay_rate / decode_rate,
            ">= 0.5x decoding alone",
            replay_rate / decode_rate >= 0.5,
        )
    ]


def audit_memory(bundle: Path) -> Figure:
    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[2]);"
        "from ledger.audit.auditor import Auditor; from ledger.audit.bundle import Bundle;"
        "from pathlib import Path; b = Bundle(Path(sys.argv[1]));"
        "r = Auditor(b.keyring()).audit(b); assert r.ok;"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bundle), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    megabytes = int(out.strip()) / 1024
    return Figure(
        "peak RSS of the audit", "bundle", megabytes, "MB", None, None, "< 300 MB", megabytes < 300
    )


# -- verification under load --------------------------------------------------------------------


def verification_figures(folder: Path, seconds: float) -> list[Figure]:
    """GET /verify/{id} (JSON) at 64 connections from another process, against a trivial JSON
    route (/healthz) served by the same server configuration, on the demo history (SQLite)."""
    import socket

    from ledger.integrity.keyring import KeyDirectory, init_keyring

    keys = KeyDirectory(folder / "verify-keys")
    init_keyring(keys, "ledger.bench/log", datetime(2012, 1, 1, tzinfo=UTC))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DATA_DIR=str(folder / "verify-var"),
        LEDGER_KEYS_DIR=str(keys.path),
        LEDGER_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    demo = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ids = [i for ids in json.loads(demo.stdout)["certificates"].values() for i in ids]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

        def load(urls: list[str]) -> dict[str, float]:
            if shutil.which("wrk"):
                return wrk(urls[0], seconds)
            spec = {
                "urls": urls,
                "connections": 64,
                "seconds": seconds,
                "headers": {"Accept": "application/json"},
            }
            out = subprocess.run(
                [sys.executable, "-m", "bench.load", json.dumps(spec)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            return dict(json.loads(out))

        trivial = load([f"{base}/healthz"])
        verify = load([f"{base}/verify/{i}" for i in ids])
        with open(f"/proc/{server.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratio = verify["requests_per_second"] / trivial["requests_per_second"]
    return [
        Figure(
            "GET /verify/{id} JSON, 64 connections",
            "sqlite",
            verify["requests_per_second"],
            "req/s",
            trivial["requests_per_second"],
            ratio,
            ">= 0.5x trivial JSON route",
            ratio >= 0.5,
        ),
        Figure(
            "GET /verify/{id} p99 latency",
            "sqlite",
            verify["p99_ms"],
            "ms",
            trivial["p99_ms"],
            None,
            "< 50 ms",
            verify["p99_ms"] < 50,
        ),
        Figure(
            "GET /verify/{id} p50 latency",
            "sqlite",
            verify["p50_ms"],
            "ms",
            trivial["p50_ms"],
            None,
            "(reported)",
            None,
        ),
        Figure(
            "peak RSS of the server under the verification load",
            "sqlite",
            rss / 1024,
            "MB",
            None,
            None,
            "< 300 MB",
            rss / 1024 < 300,
        ),
    ]


def wrk(url: str, seconds: float) -> dict[str, float]:
    """Debian's wrk: 2 threads, 64 keep-alive connections, latency percentiles."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c64",
            f"-d{max(int(seconds), 1)}s",
            "--latency",
            "-H",
            "Accept: application/json",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(text: str) -> float:
        for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * scale
        return float(text)

    found: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("50%"):
            found["p50_ms"] = ms(parts[1])
        elif line.strip().startswith("99%"):
            found["p99_ms"] = ms(parts[1])
        elif line.startswith("Requests/sec:"):
            found["requests_per_second"] = float(parts[1])
    return found


# -- main -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as meminfo:
        total = meminfo.readline().split()[1]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_kb": int(total),
        "processor": platform.processor(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="records for audit and replay")
    parser.add_argument("--append", type=int, default=2000, help="commands for the append figures")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--out", default=None)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    args = parser.parse_args()
    figures: list[Figure] = []
    pg_database = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            if "postgres" in args.backends:
                pg_database = f"ledger_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{pg_database}"')
            for backend in args.backends.split(","):
                print(f"append on {backend} ...", file=sys.stderr)
                figures += append_figures(backend, args.append, folder, pg_database)
            print(f"making {args.events:,} signed records ...", file=sys.stderr)
            bundle = write_bundle(folder, args.events)
            print("audit ...", file=sys.stderr)
            figures += audit_figures(bundle, args.events)
            figures.append(audit_memory(bundle))
            print("replay ...", file=sys.stderr)
            figures += replay_figures(bundle)
            print("verification under load ...", file=sys.stderr)
            figures += verification_figures(folder, args.load_seconds)
        finally:
            if pg_database:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
    print(f"{'figure':<64}{'backend':<10}{'value':>14}  {'baseline':>12}  {'ratio':>6}  goal")
    for f in figures:
        base = "-" if f.baseline is None else f"{f.baseline:,.0f}"
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}"
        mark = "" if f.met is None else ("met" if f.met else "MISSED")
        print(
            f"{f.name:<64}{f.backend:<10}{f.value:>12,.0f} {f.unit:<9}{base:>10}  {ratio:>6}"
            f"  {f.goal} {mark}"
        )
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / f"{date.today().isoformat()}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "arguments": vars(args),
                "figures": [asdict(f) for f in figures],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
