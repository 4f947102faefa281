"""Which client a request comes from, believing X-Forwarded-For only from our own proxies.

The header is a list that every proxy appends its peer to. Walking it from the right, past the
configured proxy addresses, the first address that is not a proxy of ours is the client: entries
left of it were written by the client itself and prove nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address

from starlette.requests import Request

from ledger.config import Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The first untrusted address: the peer itself unless it is one of `proxies`."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def client_of(request: Request, proxies: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_address(peer, request.headers.get("x-forwarded-for"), proxies)
