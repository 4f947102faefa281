"""Crash points for the crash tests: `LEDGER_CRASH_AT=<point>` kills this process with SIGKILL
when it reaches that point, as a power cut would. Unset (always, in production), it does nothing.

Points: `events-written` (a command's events and its key are written, not yet committed),
`events-committed` (committed, the answer not yet stored), `answer-stored` (stored, not sent).
"""

from __future__ import annotations

import os
import signal

POINTS = ("events-written", "events-committed", "answer-stored")
_AT = os.environ.get("LEDGER_CRASH_AT", "")


def reach(point: str) -> None:
    if _AT and point == _AT:
        os.kill(os.getpid(), signal.SIGKILL)
