"""Connection limits in the server itself: read timeouts and a cap per client address.

uvicorn bounds nothing while a request arrives: its keep-alive timer is cancelled by any byte, so
a client sending one header byte every few seconds holds a connection (and a socket) for ever.
`LimitedHttpProtocol` is uvicorn's httptools protocol with three limits added:

- the request head must be complete within `header_timeout_s` of the connection opening, or of
  the previous answer on a kept-alive connection; otherwise the connection is closed;
- while a request body is expected, a silence of `body_timeout_s` closes the connection (the time
  the server itself stops reading, because the application has not taken the body yet, does not
  count);
- a client address may hold `max_connections_per_client` open connections in this process; a
  connection beyond that is answered at once, without reading its request, with 503 and
  Retry-After, and closed. Addresses of trusted proxies are exempt: every client arrives through
  them.

The limits are read from the LEDGER_* environment once per process: uvicorn starts each worker
process afresh, with the environment `ledger serve` set up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from ledger.config import Network, Settings

RETRY_AFTER_S = 2
REFUSED_LINGER_S = 1.0
"""How long a refused connection may stay open for its client to read the answer and close."""

log = logging.getLogger("ledger.connections")


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    body_timeout_s: float
    max_per_client: int
    trusted_proxies: tuple[Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            settings.header_timeout_s,
            settings.body_timeout_s,
            settings.max_connections_per_client,
            settings.trusted_proxies,
        )

    def exempt(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


@cache
def process_limits() -> ConnectionLimits:
    return ConnectionLimits.from_settings(Settings.from_env(os.environ))


def _refusal() -> bytes:
    body = json.dumps(
        {
            "type": "https://ledger.efce.example/problems/too-many-connections",
            "title": "Too many connections",
            "status": 503,
            "detail": "This address has too many connections open; close one, or retry later.",
        }
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/problem+json\r\n"
        f"retry-after: {RETRY_AFTER_S}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


REFUSAL = _refusal()

open_connections: Counter[str] = Counter()
"""Open connections per client address in this process (only touched on the event loop)."""
_refusing: set[str] = set()
"""Addresses at their cap whose refusal was logged, so an attack logs one line, not thousands."""


class LimitedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = process_limits()
        self.counted: str | None = None
        self.refused = False
        self.awaiting: str | None = None  # "head" or "body": what the read timer waits for
        self.read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if address and not self.limits.exempt(address):
            if open_connections[address] >= self.limits.max_per_client:
                self._refuse(transport, address)
                return
            open_connections[address] += 1
            self.counted = address
        super().connection_made(transport)
        self._await("head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        if self.counted is not None:
            open_connections[self.counted] -= 1
            if open_connections[self.counted] < self.limits.max_per_client:
                _refusing.discard(self.counted)
            if open_connections[self.counted] <= 0:
                del open_connections[self.counted]
            self.counted = None
        if not self.refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # read and dropped, so closing sends no reset over the answer
        if self.awaiting == "body":
            self._await("body")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._await("body")  # stopped at once by on_message_complete when there is no body

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._stop_timer()

    def on_response_complete(self) -> None:
        idle = not self.pipeline
        super().on_response_complete()
        if idle and not self.transport.is_closing():
            self._await("head")

    def _refuse(self, transport: asyncio.Transport, address: str) -> None:
        self.refused = True
        self.transport = transport
        if address not in _refusing:
            _refusing.add(address)
            log.info(
                "refusing connections from %s: %d already open",
                address,
                self.limits.max_per_client,
            )
        transport.write(REFUSAL)
        if transport.can_write_eof():
            transport.write_eof()
        self.read_timer = self.loop.call_later(REFUSED_LINGER_S, transport.close)

    def _await(self, part: str) -> None:
        self._stop_timer()
        self.awaiting = part
        seconds = self.limits.header_timeout_s if part == "head" else self.limits.body_timeout_s
        self.read_timer = self.loop.call_later(seconds, self._timed_out)

    def _stop_timer(self) -> None:
        self.awaiting = None
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _timed_out(self) -> None:
        if self.awaiting == "body" and self.flow.read_paused:
            self._await("body")  # the server stopped reading, not the client sending
            return
        if self.transport.is_closing():
            return
        address = self.client[0] if self.client else "unknown"
        if self.awaiting == "head":
            why = f"no complete request head within {self.limits.header_timeout_s:g} s"
        else:
            why = f"no byte of the request body for {self.limits.body_timeout_s:g} s"
        log.info("closed a slow connection from %s: %s", address, why)
        self.transport.close()
