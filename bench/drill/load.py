"""The load client: writers that send every command under its own Idempotency-Key, retry it
with the same key until it is answered for good, and record every acknowledgement.

A write is answered for good by a 2xx (acknowledged) or by a refusal (4xx) that is not one of
the answers that mean "try again": 409 "In progress", 409 "Retry", 409 for a concurrent change
to the same record, 429. Connection errors, time-outs, 5xx and 503 (after its Retry-After) are
retried with the same key until the scenario ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

Verdict = Literal["acknowledged", "refused", "retry"]
MAX_RETRY_AFTER = 5.0
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Kind:
    """What the writers write: the route and the body carrying a unique, non-personal marker."""

    name: str
    path: str
    topic: str
    field: str

    def body(self, marker: str) -> dict[str, Any]:
        if self.name == "programmes":
            return {
                "title": marker,
                "starts_on": "2030-01-07",
                "ends_on": "2030-06-28",
                "material_version": "2030.1",
            }
        return {"version": marker, "title": "Drill handbook, 2030 edition"}


PROGRAMMES = Kind("programmes", "/v1/programmes", "programme.opened", "title")
MATERIALS = Kind("materials", "/v1/materials", "material.version_published", "version")


@dataclass
class Answer:
    status: int
    id: str | None = None
    positions: list[int] = field(default_factory=list)
    title: str = ""
    detail: str = ""
    replayed: bool = False
    projected: bool = False
    via: str = ""
    """The API process that answered."""
    at: float = 0.0

    @property
    def verdict(self) -> Verdict:
        return verdict(self)


def verdict(answer: Answer) -> Verdict:
    if 200 <= answer.status < 300:
        return "acknowledged"
    if answer.status >= 500 or answer.status == 429:
        return "retry"
    if answer.status == 409 and (
        answer.title in ("In progress", "Retry") or "saved first" in answer.detail
    ):
        return "retry"
    return "refused"


def read_answer(response: httpx.Response, via: str = "") -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return Answer(
        status=response.status_code,
        id=body.get("id") if response.is_success else None,
        positions=list(body.get("positions") or []) if response.is_success else [],
        title=str(body.get("title", "")),
        detail=str(body.get("detail", "")),
        replayed=response.headers.get("Idempotent-Replayed") == "true",
        projected=bool(body.get("projected")) if response.is_success else False,
        via=via,
        at=time.monotonic(),
    )


def retry_after(response: httpx.Response | None, attempt: int) -> float:
    if response is not None:
        value = response.headers.get("Retry-After", "")
        if value.isdigit():
            return min(float(value), MAX_RETRY_AFTER)
    return min(0.05 * 2.0 ** min(attempt, 5), 1.0) * random.uniform(0.5, 1.5)


@dataclass
class Write:
    """One command under one Idempotency-Key, and everything it was answered."""

    key: str
    marker: str
    kind: Kind
    attempts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    acknowledged: Answer | None = None
    refused: Answer | None = None
    final: Answer | None = None
    """The answer to the key sent once more after the scenario (None: no answer)."""

    @property
    def body(self) -> dict[str, Any]:
        return self.kind.body(self.marker)


@dataclass(frozen=True)
class Recovered:
    """A fault's end (a restart, PostgreSQL back, space freed), and the acknowledgement that
    shows the ledger recovered from it: any, one served by a given API process (`via`), or one
    already projected (a worker's recovery)."""

    label: str
    at: float
    via: str | None = None
    projected: bool = False

    def shown_by(self, answer: Answer) -> bool:
        return (
            answer.at >= self.at
            and (self.via is None or answer.via == self.via)
            and (answer.projected or not self.projected)
        )


@dataclass
class Journal:
    """Every write sent in a scenario, and when the ledger recovered from each fault."""

    run: str
    scenario: str
    writes: list[Write] = field(default_factory=list)
    recoveries: list[Recovered] = field(default_factory=list)

    def new_write(self, kind: Kind) -> Write:
        n = len(self.writes)
        marker = f"Drill {self.run} {self.scenario} {n:06d}"
        write = Write(key=f"drill-{self.run}-{self.scenario}-{n:06d}", marker=marker, kind=kind)
        self.writes.append(write)
        return write

    def recovered(self, label: str, via: str | None = None, projected: bool = False) -> Recovered:
        event = Recovered(label, time.monotonic(), via, projected)
        self.recoveries.append(event)
        return event

    def recovery_time(self, event: Recovered) -> float | None:
        shown = [
            w.acknowledged.at
            for w in self.writes
            if w.acknowledged is not None and event.shown_by(w.acknowledged)
        ]
        return min(shown) - event.at if shown else None

    async def wait_recovered(self, event: Recovered, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.recovery_time(event)
            if found is not None:
                return found
            await asyncio.sleep(0.05)
        return None

    async def wait_ack(self, timeout: float) -> None:
        """Until any write is acknowledged (the load is flowing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(w.acknowledged for w in self.writes):
            await asyncio.sleep(0.05)


def client(token: str, local_address: str | None = None) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=local_address, retries=0)
    return httpx.AsyncClient(
        transport=transport,
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=5.0),
    )


async def send(http: httpx.AsyncClient, base: str, write: Write) -> httpx.Response:
    return await http.post(
        f"{base}{write.kind.path}", json=write.body, headers={"Idempotency-Key": write.key}
    )


class Writers:
    """`count` writers, each sending one write after another, spread over the API processes and
    over several client addresses (127.0.0.x) so no per-client limit is met by the drill."""

    def __init__(
        self, journal: Journal, kind: Kind, bases: list[str], token: str, count: int
    ) -> None:
        self.journal = journal
        self.kind = kind
        self.bases = bases
        self.token = token
        self.count = count
        self.latencies: list[float] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Writers:
        self._tasks = [asyncio.create_task(self._writer(i)) for i in range(self.count)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self, grace: float = 5.0) -> None:
        """End the scenario's load: no new attempt starts; one in flight has `grace` seconds."""
        self._stop.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _writer(self, index: int) -> None:
        async with client(self.token, f"127.0.0.{10 + index % 8}") as http:
            turn = index
            while not self._stop.is_set():
                write = self.journal.new_write(self.kind)
                turn = await self._until_answered(http, write, turn) + 1

    async def _until_answered(self, http: httpx.AsyncClient, write: Write, turn: int) -> int:
        while not self._stop.is_set():
            base = self.bases[turn % len(self.bases)]
            write.attempts += 1
            started = time.monotonic()
            response: httpx.Response | None = None
            try:
                response = await send(http, base, write)
            except httpx.TransportError as exc:
                write.outcomes[type(exc).__name__] += 1
                turn += 1  # another API process, if there is one
            else:
                answer = read_answer(response, base)
                write.outcomes[str(answer.status)] += 1
                if answer.verdict == "acknowledged":
                    write.acknowledged = answer
                    self.latencies.append(answer.at - started)
                    return turn
                if answer.verdict == "refused":
                    write.refused = answer
                    return turn
            await pause(self._stop, retry_after(response, write.attempts))
        return turn


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
