"""One scenario on one backend, from a fresh ledger to its row of the table."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.drill import disk
from bench.drill.ledgers import (
    Ledger,
    postgres_database,
    postgres_ledger,
    postgres_unavailable,
    sqlite_ledger,
)
from bench.drill.load import Journal
from bench.drill.plan import Plan
from bench.drill.processes import DrillError, deployment
from bench.drill.scenarios import Scenario, Stage
from bench.drill.verdict import answers, count, recovery, resend_all
from tests import private_pg
from tests.private_pg import PrivateCluster

SMALL_DISK_MB = 48
# The disk check of /readyz wants this much free space on the small disk (64 MB by default).
SMALL_DISK_MIN_FREE_MB = "8"


def unavailable(scenario: Scenario, backend: str) -> str | None:
    if backend == "postgres":
        reason = postgres_unavailable()
        if reason is None and scenario.place == "private-cluster":
            reason = private_pg.available()
        return reason
    if scenario.place == "small-disk":
        return disk.unavailable()
    return None


def _provision(
    stack: ExitStack, scenario: Scenario, backend: str, workdir: Path
) -> tuple[Ledger, PrivateCluster | None, Path | None]:
    if backend == "sqlite":
        if scenario.place == "small-disk":
            place = stack.enter_context(disk.small_disk(workdir / "disk", SMALL_DISK_MB))
            return sqlite_ledger(workdir, place / "var"), None, place
        return sqlite_ledger(workdir), None, None
    if scenario.place == "private-cluster":
        cluster = stack.enter_context(PrivateCluster())
        url = cluster.database_url(cluster.create_database())
        return postgres_ledger(workdir, url), cluster, None
    return postgres_ledger(workdir, stack.enter_context(postgres_database())), None, None


async def run_scenario(
    scenario: Scenario, backend: str, plan: Plan, workdir: Path, run: str, seed: int
) -> dict[str, Any]:
    row: dict[str, Any] = {"scenario": scenario.name, "backend": backend, "title": scenario.title}
    reason = unavailable(scenario, backend)
    if reason is not None:
        return row | {"skipped": reason}
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        ledger, cluster, place = _provision(stack, scenario, backend, workdir)
        extra = {"LEDGER_MIN_FREE_MB": SMALL_DISK_MIN_FREE_MB} if place else {}
        processes = deployment(ledger.env(**extra), workdir / "logs", ledger.postgres)
        stack.callback(processes.stop)
        processes.start()
        token = ledger.token()
        journal = Journal(run, scenario.name)
        stage = Stage(
            backend,
            plan,
            ledger,
            processes,
            journal,
            token,
            random.Random(seed),
            data_disk=place,
            cluster=cluster,
        )
        try:
            await scenario.drive(stage)
        except DrillError as exc:
            row["error"] = str(exc)
        # Everything restarted cleanly, then every key sent once more, every marker counted.
        await asyncio.to_thread(processes.restart_cleanly)
        kind = scenario.kind
        before = await asyncio.to_thread(ledger.markers, kind.topic, kind.field)
        await resend_all(journal, processes.bases[0], token)
        after = await asyncio.to_thread(ledger.markers, kind.topic, kind.field)
        processes.stop()
        audit = await asyncio.to_thread(ledger.audit)
    counts = count(journal, before, after)
    recoveries = recovery(journal)
    known = [r["seconds"] for r in recoveries if r["seconds"] is not None]
    return row | {
        "sent": counts.sent,
        "acknowledged": counts.acknowledged,
        "found": counts.found,
        "lost": counts.lost,
        "duplicated": counts.duplicated,
        "unresolved": counts.unresolved,
        "wrong_answers": counts.wrong,
        "audit": audit,
        "recovery_s_max": max(known) if known else None,
        "recoveries": recoveries,
        "answers": answers(journal),
        "examples": counts.examples,
        "notes": stage.notes,
        "passed": counts.clean and audit["passed"] and "error" not in row,
        "seconds": round(time.monotonic() - started, 1),
    }
