"""A progress bar for long jobs on standard error: redrawn on a terminal, lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_step = -1

    def __call__(self, done: int) -> None:
        if self.total <= 0:
            return
        share = min(done / self.total, 1.0)
        if self.tty:
            step = int(share * 200)
            if step == self._last_step:
                return
            bar = "#" * int(share * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {share:6.1%} {done:,}/{self.total:,}")
            if done >= self.total:
                self.stream.write("\n")
        else:
            step = int(share * 10)
            if step == self._last_step:
                return
            rate = done / max(time.monotonic() - self.started, 1e-9)
            self.stream.write(
                f"{self.label}: {share:.0%} ({done:,}/{self.total:,}, {rate:,.0f}/s)\n"
            )
        self._last_step = step
        self.stream.flush()
