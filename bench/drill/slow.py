"""Slow clients: connections that dribble a request's headers one byte at a time and never
finish them, beside the writers. Each records whether the server closed it, and when."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

HEAD = b"POST /v1/programmes HTTP/1.1\r\nHost: drill.example\r\nX-Drill-Padding: "


@dataclass
class Dribble:
    opened: bool = False
    closed_after: float | None = None
    """Seconds from connecting until the server closed the connection (None: still open)."""


class SlowClients:
    def __init__(self, base: str, count: int, byte_every: float) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.byte_every = byte_every
        self.dribbles = [Dribble() for _ in range(count)]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> SlowClients:
        self._tasks = [asyncio.create_task(self._dribble(d)) for d in self.dribbles]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def summary(self) -> dict[str, object]:
        closed = [d.closed_after for d in self.dribbles if d.closed_after is not None]
        return {
            "slow_clients": len(self.dribbles),
            "connected": sum(d.opened for d in self.dribbles),
            "closed_by_server": len(closed),
            "closed_after_s_max": round(max(closed), 1) if closed else None,
            "byte_every_s": self.byte_every,
        }

    async def _dribble(self, dribble: Dribble) -> None:
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, local_addr=("127.0.0.250", 0)
            )
        except OSError:
            return
        dribble.opened = True
        started = time.monotonic()
        sent = 0
        try:
            while not self._stop.is_set():
                byte = HEAD[sent : sent + 1] if sent < len(HEAD) else b"a"
                writer.write(byte)
                await writer.drain()
                sent += 1
                try:
                    data = await asyncio.wait_for(reader.read(4096), self.byte_every)
                except TimeoutError:
                    continue
                del data  # an answer (408) or the end of the stream: the server let go
                dribble.closed_after = time.monotonic() - started
                return
        except OSError:
            dribble.closed_after = time.monotonic() - started
        finally:
            writer.close()
