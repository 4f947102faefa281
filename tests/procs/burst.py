"""A writer process for crash tests: writes events with the sequencer running beside it, printing
a line after each command, until it is killed."""

from __future__ import annotations

import os
import sys
import threading

from ledger.config import Settings
from ledger.runtime import open_runtime
from ledger.workload import generate


def main() -> None:
    runtime = open_runtime(Settings.from_env(os.environ))
    stop = threading.Event()
    threading.Thread(target=runtime.sequencer.run, args=(stop, 0.005), daemon=True).start()
    original = runtime.store.save

    def save_and_report(*aggregates: object) -> list[int]:
        positions = original(*aggregates)
        print(f"wrote {positions[-1] if positions else 0}", flush=True)
        return positions

    runtime.store.save = save_and_report  # type: ignore[method-assign]
    generate(runtime.service, int(sys.argv[1]))
    stop.set()


if __name__ == "__main__":
    main()
