"""A projection runner process (as `ledger worker` runs it), until terminated."""

from __future__ import annotations

import os
import signal
import threading

from ledger.config import Settings
from ledger.db import Database
from ledger.views.runner import ProjectionRunner


def main() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ProjectionRunner(Database(Settings.from_env(os.environ))).run(stop, 0.02)


if __name__ == "__main__":
    main()
