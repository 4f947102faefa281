"""A careful HTTP client for `ledger audit URL`: the server being audited is not trusted.

Each answer is capped in size (a declared Content-Length over the cap is refused unread), the
whole run has a time limit that a server dripping bytes cannot stretch, a redirect is followed
only within the same origin, and every refusal says why the download stopped.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

from ledger.audit.bundle import BundleError
from ledger.config import AuditClientLimits

MAX_REDIRECTS = 3
CHUNK = 64 * 1024


class FetchStopped(BundleError):
    """The download stopped at a limit; the message says which and where."""


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class Fetcher:
    """GETs from one origin, within `limits`, all counted against one deadline."""

    def __init__(self, base: str, limits: AuditClientLimits, token: str | None = None) -> None:
        if not base.startswith(("http://", "https://")):
            raise BundleError(f"{base} is not an http(s) URL")
        self.origin = _origin(base)
        self.limits = limits
        # Sent only to this origin: a redirect elsewhere is refused before it is followed.
        self.headers = {"Accept-Encoding": "identity"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.deadline = time.monotonic() + limits.time_limit_s

    def _remaining(self, url: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._past_time_limit(url)
        return left

    def _past_time_limit(self, url: str) -> FetchStopped:
        return FetchStopped(
            f"stopped: the audit's download ran past its time limit of"
            f" {self.limits.time_limit_s} s (LEDGER_AUDIT_TIME_LIMIT_S) while reading {url}"
        )

    def _timeout(self, url: str) -> float:
        return min(float(self.limits.read_timeout_s), self._remaining(url))

    def get(self, url: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._get_once(url)
            if location is None:
                if status in (401, 403):
                    raise BundleError(
                        f"cannot read {url}: HTTP {status}; the full log is for auditors:"
                        " give an auditor's token with --token or LEDGER_TOKEN"
                        if "Authorization" not in self.headers
                        else f"cannot read {url}: HTTP {status}; the token was refused"
                    )
                if status != 200:
                    raise BundleError(f"cannot read {url}: HTTP {status}")
                return body
            target = urljoin(url, location)
            if _origin(target) != self.origin:
                raise FetchStopped(
                    f"stopped: {url} redirects to another origin ({target}); not followed"
                )
            url = target
        raise FetchStopped(f"stopped: more than {MAX_REDIRECTS} redirects from {url}")

    def _connection(self, url: str) -> http.client.HTTPConnection:
        scheme, host, port = self.origin
        timeout = self._timeout(url)
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _get_once(self, url: str) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(url)
        try:
            connection.request("GET", path, headers=self.headers)
            sock = connection.sock  # the response keeps it even when the connection lets go
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                return response.status, response.getheader("Location") or "", b""
            return response.status, None, self._read(url, response, sock)
        except TimeoutError:
            if time.monotonic() >= self.deadline - 0.1:  # the wait was cut to the run's end
                raise self._past_time_limit(url) from None
            raise FetchStopped(
                f"stopped: {url} sent nothing for {self.limits.read_timeout_s} s"
                " (LEDGER_AUDIT_READ_TIMEOUT_S)"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise BundleError(f"cannot read {url}: {exc}") from exc
        finally:
            connection.close()

    def _read(self, url: str, response: http.client.HTTPResponse, sock: socket.socket) -> bytes:
        cap = self.limits.max_response_bytes
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise self._too_large(url, f"declares {declared} bytes")
        body = bytearray()
        while True:
            sock.settimeout(self._timeout(url))  # a dripping server cannot outlast the run
            chunk = response.read1(CHUNK)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > cap:
                raise self._too_large(url, f"sent more than {cap} bytes")

    def _too_large(self, url: str, what: str) -> FetchStopped:
        return FetchStopped(
            f"stopped: the answer from {url} {what}, over the limit of"
            f" {self.limits.max_response_bytes} bytes (LEDGER_AUDIT_MAX_RESPONSE_BYTES)"
        )
