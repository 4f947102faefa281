"""When an account stops accepting sign-ins for a while, after repeated failures on it.

Pure policy over an account's own counters: failures on one account never touch another, so
nobody can lock out a colleague by failing with a different username. Each lockout in a row
lasts twice as long as the one before (15 minutes, 30, 60, ... up to a day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
FIRST_LOCKOUT = timedelta(minutes=15)
LONGEST_LOCKOUT = timedelta(days=1)


@dataclass(frozen=True)
class Failures:
    """An account's recent failed sign-ins."""

    count: int = 0
    since: datetime | None = None  # the first failure of the current window
    locked_until: datetime | None = None
    lockouts: int = 0  # lockouts in a row, since the last successful sign-in

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime) -> Failures:
        """The counters after one more failure at `now` (a failure while locked changes nothing:
        guessing during a lockout neither extends it for the owner nor helps the guesser)."""
        if self.locked(now):
            return self
        fresh = self.since is None or now - self.since > WINDOW
        count, since = (1, now) if fresh else (self.count + 1, self.since)
        if count < MAX_FAILURES:
            return Failures(count, since, self.locked_until, self.lockouts)
        wait = min(FIRST_LOCKOUT * (2 ** min(self.lockouts, 10)), LONGEST_LOCKOUT)
        return Failures(0, None, now + wait, self.lockouts + 1)
