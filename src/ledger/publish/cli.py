"""`ledger publish DIR`: write (or bring up to date) the static publication of this ledger."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

from ledger.config import Settings


def _publish_once(settings: Settings, directory: Path) -> str:
    from ledger.publish.publisher import publish
    from ledger.runtime import open_runtime

    runtime = open_runtime(settings)
    try:
        return publish(runtime, directory, date.today()).summary()
    finally:
        runtime.close()


def _cmd_publish(args: argparse.Namespace) -> int:
    settings = Settings.from_env(dict(os.environ))
    directory = Path(args.directory)
    if not args.every:
        print(_publish_once(settings, directory))
        return 0
    stopping = False

    def stop(_: int, __: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        print(_publish_once(settings, directory), flush=True)
        deadline = time.monotonic() + args.every
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, args.every))
    print("stopped", file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    """Add `publish` to the `ledger` command's subparsers."""
    publish = commands.add_parser(
        "publish",
        help="write the log as C2SP tlog-tiles and the public documents as static files",
    )
    publish.add_argument("directory", help="the folder a static web server serves")
    publish.add_argument(
        "--every",
        type=float,
        metavar="S",
        help="keep publishing, every S seconds (only what changed), until stopped",
    )
    publish.set_defaults(func=_cmd_publish)
