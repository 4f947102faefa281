"""A projection runner whose handlers are slowed down and print each event they apply: the
crash test kills it in the middle of a batch."""

from __future__ import annotations

import os
import time

from ledger.config import Settings
from ledger.db import Database
from ledger.views.runner import ProjectionRunner
from projections import ALL
from projections.base import Event, Handler, Projection, View


def slowed(handler: Handler) -> Handler:
    def handle(view: View, event: Event) -> None:
        handler(view, event)
        print(event.position, flush=True)
        time.sleep(0.001)

    return handle


def main() -> None:
    projections = [
        Projection(p.name, p.version, {t: slowed(h) for t, h in p.handlers.items()}) for p in ALL
    ]
    runner = ProjectionRunner(Database(Settings.from_env(os.environ)), projections, batch=2000)
    runner.catch_up()


if __name__ == "__main__":
    main()
