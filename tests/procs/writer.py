"""A writer process: records a synthetic history through the service layer, then exits."""

from __future__ import annotations

import os
import sys

from ledger.config import Settings
from ledger.runtime import open_runtime
from ledger.workload import generate


def main() -> None:
    runtime = open_runtime(Settings.from_env(os.environ))
    try:
        generate(runtime.service, int(sys.argv[1]), seed=int(sys.argv[2]))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
