"""Where the time goes, for the figures that miss their goals.

    python -m bench.profile append|http-append|verify|audit|rebuild [--backend sqlite|postgres]
    python -m bench.profile bundle-audit --bundle DIR      # an exported bundle's audit

In-process work (append, audit, rebuild) is profiled with pyinstrument; the server (HTTP append,
verification) with py-spy attached to the real server process while the load runs, counting only
samples that hold the GIL, so waiting threads do not crowd the table. Needs the dev extra.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import append, history, server
from bench.places import Places
from ledger.config import Settings

SECONDS = 8


def in_process(work: Callable[[], Any]) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    print(work())
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: pip install -e '.[dev]'")
    return found


def spied(raw: Path) -> Callable[[Settings], Any]:
    original = server.serve

    @contextmanager
    def serve(settings: Settings) -> Iterator[server.Server]:
        with original(settings) as running:
            spy = subprocess.Popen(
                [py_spy(), "record", "--pid", str(running.pid), "-d", str(SECONDS), "-r", "200",
                 "--format", "raw", "-o", str(raw), "--nonblocking", "--gil"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            yield running
            spy.wait()

    return serve


def summarise(raw: Path, rows: int = 45) -> None:
    """Inclusive share of GIL-holding samples per function, then the top self times."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [f.split(" (")[0] + "  " + f.split("(")[-1].split(":")[0].rsplit("/", 1)[-1]
                  for f in stack.split(";")]  # fmt: skip
        for name in set(frames):
            inclusive[name] += samples
        own[frames[-1]] += samples
    print(f"{total} samples holding the GIL in {SECONDS} s at 200 Hz "
          f"({total / (SECONDS * 200):.0%} of the wall time)")  # fmt: skip
    for name, samples in inclusive.most_common(rows):
        print(f"{samples / total:6.1%}  {name}")
    print("self:")
    for name, samples in own.most_common(15):
        print(f"{samples / total:6.1%}  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "what", choices=["append", "http-append", "verify", "audit", "rebuild", "bundle-audit"]
    )
    parser.add_argument("--bundle", type=Path, help="the bundle for bundle-audit")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    if args.what == "bundle-audit":
        if args.bundle is None:
            parser.error("bundle-audit needs --bundle DIR (a folder written by `ledger export`)")
        from ledger.audit.auditor import Auditor
        from ledger.audit.bundle import Bundle

        source = Bundle(args.bundle)
        in_process(lambda: Auditor(source.keyring()).audit(source).records)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        places = Places(Path(tmp))
        raw = Path(tmp) / "py-spy.txt"
        if args.backend == "postgres":
            places.create_database()
        try:
            if args.what == "append":
                in_process(lambda: append.append_rates(places, args.backend, 3000))
            elif args.what == "http-append":
                print(append.http_rate(places, args.backend, 3000, serving=spied(raw)))
                summarise(raw)
            elif args.what == "verify":
                ledger = history.make_ledger(places, args.backend, args.events)
                with spied(raw)(ledger.settings) as running:
                    urls = [f"{running.base}/verify/{i}" for i in ledger.big.certificates]
                    print(server.get_load(urls, SECONDS))
                summarise(raw)
            else:
                ledger = history.make_ledger(places, args.backend, args.events)
                if args.what == "audit":
                    in_process(lambda: history.live_audit_figures(args.backend, ledger, ledger))
                else:
                    in_process(lambda: history.rebuild_figures(args.backend, ledger))
        finally:
            places.drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
