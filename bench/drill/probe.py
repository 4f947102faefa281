"""`/readyz` and `/healthz` asked twice a second through a scenario: what they answered and
how long they took (an orchestrator's probes during the faults)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from bench.drill.load import pause

EVERY = 0.5
TIMEOUT = 15.0


class Probes:
    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: dict[str, Counter[str]] = {"readyz": Counter(), "healthz": Counter()}
        self.slowest: dict[str, float] = {"readyz": 0.0, "healthz": 0.0}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Probes:
        self._tasks = [asyncio.create_task(self._probe(path)) for path in self.answers]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def summary(self) -> dict[str, Any]:
        return {
            f"{path}_answers": dict(sorted(self.answers[path].items())) for path in self.answers
        } | {f"{path}_slowest_s": round(self.slowest[path], 2) for path in self.answers}

    async def _probe(self, path: str) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    said = str((await http.get(f"{self.base}/{path}")).status_code)
                except httpx.TimeoutException:
                    said = "timeout"
                except httpx.TransportError:
                    said = "no connection"
                took = time.monotonic() - started
                if said != "no connection":  # a process being restarted is not a slow answer
                    self.slowest[path] = max(self.slowest[path], took)
                self.answers[path][said] += 1
                await pause(self._stop, max(EVERY - took, 0.05))
