"""The scenarios: what each does to a running ledger while the writers write."""

from __future__ import annotations

import asyncio
import random
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.drill import disk
from bench.drill.ledgers import Ledger
from bench.drill.load import MATERIALS, PROGRAMMES, Journal, Kind, Writers
from bench.drill.plan import Plan
from bench.drill.probe import Probes
from bench.drill.processes import Deployment, DrillError
from bench.drill.slow import SlowClients
from tests.private_pg import PrivateCluster

RECOVERY_TIMEOUT = 60.0
Place = Literal["default", "small-disk", "private-cluster"]


@dataclass
class Stage:
    """One scenario's running ledger, its load and what it noted on the way."""

    backend: str
    plan: Plan
    ledger: Ledger
    deployment: Deployment
    journal: Journal
    token: str
    rng: random.Random
    data_disk: Path | None = None
    cluster: PrivateCluster | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def writers(self, kind: Kind, count: int) -> Writers:
        return Writers(self.journal, kind, self.deployment.bases, self.token, count)

    def note_latency(self, writers: Writers) -> None:
        if len(writers.latencies) >= 2:
            ordered = sorted(writers.latencies)
            self.notes["ack_latency_p50_ms"] = round(statistics.median(ordered) * 1000)
            self.notes["ack_latency_p99_ms"] = round(ordered[int(len(ordered) * 0.99)] * 1000)

    async def recovered(self, label: str, via: str | None = None, projected: bool = False) -> None:
        """Mark a fault's end and wait until a write is acknowledged after it."""
        event = self.journal.recovered(label, via, projected)
        if await self.journal.wait_recovered(event, RECOVERY_TIMEOUT) is None:
            raise DrillError(f"no write acknowledged within {RECOVERY_TIMEOUT:.0f} s of {label}")


Drive = Callable[[Stage], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    kind: Kind
    drive: Drive
    backends: tuple[str, ...] = ("sqlite", "postgres")
    place: Place = "default"


async def kill_cycles(stage: Stage) -> None:
    """SIGKILL, in turn, each process of the deployment (PostgreSQL: both API processes and the
    worker); each is restarted as a supervisor would, and the load must flow again through it
    before the next is killed."""
    plan, deployment = stage.plan, stage.deployment
    probes = Probes(deployment.bases[0])
    async with stage.writers(PROGRAMMES, plan.writers) as writers, probes:
        await stage.journal.wait_ack(RECOVERY_TIMEOUT)
        await asyncio.sleep(plan.settle_seconds)
        victims = deployment.apis + ([deployment.worker] if deployment.worker else [])
        for cycle in range(plan.kill_cycles):
            victim = victims[cycle % len(victims)]
            await asyncio.sleep(stage.rng.uniform(0.2, 1.5))
            await asyncio.to_thread(victim.kill)
            await asyncio.sleep(stage.rng.uniform(0.0, 0.5))
            await asyncio.to_thread(victim.start)
            if victim.port is None:  # the worker: recovered once writes are projected again
                await stage.recovered(f"{victim.name} restarted", projected=True)
            else:
                await stage.recovered(f"{victim.name} restarted", via=victim.base)
        await asyncio.sleep(plan.settle_seconds)
        stage.note_latency(writers)
    stage.notes.update(probes.summary(), killed=plan.kill_cycles)


async def postgres_outages(stage: Stage) -> None:
    """PostgreSQL restarted, or stopped for a while and started again, under load."""
    cluster = stage.cluster
    assert cluster is not None
    plan = stage.plan
    probes = Probes(stage.deployment.bases[0])
    async with stage.writers(PROGRAMMES, plan.writers) as writers, probes:
        await stage.journal.wait_ack(RECOVERY_TIMEOUT)
        await asyncio.sleep(plan.settle_seconds)
        for seconds in plan.outages:
            await asyncio.sleep(stage.rng.uniform(0.3, 1.0))
            if seconds == 0:
                await asyncio.to_thread(cluster.restart)
                await stage.recovered("PostgreSQL restarted")
            else:
                await asyncio.to_thread(cluster.stop)
                await asyncio.sleep(seconds)
                await asyncio.to_thread(cluster.start)
                await stage.recovered(f"PostgreSQL back after {seconds:g} s")
        await asyncio.sleep(plan.settle_seconds)
        stage.note_latency(writers)
    stage.notes.update(probes.summary(), outages_s=list(plan.outages))


async def full_disk(stage: Stage) -> None:
    """The SQLite data directory's disk filled to the last byte, held full, then freed."""
    place = stage.data_disk
    assert place is not None
    plan = stage.plan
    probes = Probes(stage.deployment.bases[0])
    async with stage.writers(PROGRAMMES, plan.writers) as writers, probes:
        await stage.journal.wait_ack(RECOVERY_TIMEOUT)
        await asyncio.sleep(plan.settle_seconds)
        await asyncio.to_thread(disk.fill, place)
        await asyncio.sleep(plan.disk_full_seconds)
        disk.free(place)
        await stage.recovered("space freed")
        await asyncio.sleep(plan.settle_seconds)
        stage.note_latency(writers)
    stage.notes.update(probes.summary(), full_s=plan.disk_full_seconds)


async def one_stream(stage: Stage) -> None:
    """Many writers publishing distinct material versions to the one catalogue stream (every
    write contends with the others), with slow clients dribbling headers beside them."""
    plan = stage.plan
    slow = SlowClients(stage.deployment.bases[0], plan.slow_clients, plan.slow_byte_every)
    async with stage.writers(MATERIALS, plan.one_stream_writers) as writers, slow:
        await asyncio.sleep(plan.one_stream_seconds)
        stage.note_latency(writers)
    stage.notes.update(slow.summary(), writers=plan.one_stream_writers)


SCENARIOS = (
    Scenario("kill-9", "kill -9 of API processes and the worker, in turn", PROGRAMMES, kill_cycles),
    Scenario(
        "postgres-restart",
        "PostgreSQL restarted and stopped for a while",
        PROGRAMMES,
        postgres_outages,
        backends=("postgres",),
        place="private-cluster",
    ),
    Scenario(
        "full-disk",
        "the data directory's disk full, then freed",
        PROGRAMMES,
        full_disk,
        backends=("sqlite",),
        place="small-disk",
    ),
    Scenario("one-stream", "writers on one stream, slow clients beside", MATERIALS, one_stream),
)
