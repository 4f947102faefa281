"""Append figures: signed single-event commands through the service layer and over HTTP, and the
bulk import, each against the plain eventsourcing library on the same backend."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from bench.baseline import Trainer
from bench.figures import Figure, ratio_figure, timed
from bench.places import Places
from bench.server import run_load, serve, serve_deployed, token, wrk
from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.domain.actors import Actor, Role
from ledger.runtime import open_runtime
from ledger.store.application import backend_env

HTTP_CLIENTS = 16
HTTP_SECONDS = 10  # with wrk, the HTTP append runs for a time, not a count
IMPORT_GOAL = 0.4  # at least, against the library's recorder inserting the same rows
REGISTRAR = Actor("registrar-bench", Role.REGISTRAR)


ROUNDS = 3  # the plain library and the service layer take turns, this many rounds each


@contextmanager
def append_sides(
    places: Places, backend: str, count: int
) -> Iterator[tuple[Callable[[], int], Callable[[], int]]]:
    """A round of single-event saves of the plain library (the baseline: an unsigned event of
    the same shape, the same backend settings, aggregate cache included, on a fresh store) and
    a round of signed single-event commands through the service layer, `count / ROUNDS` each."""
    per_round = max(count // ROUNDS, 1)
    app: Application[Any] = Application(env=backend_env(places.settings(backend, "baseline")))
    runtime = open_runtime(
        places.settings(backend, "service"), clock=ManualClock(datetime(2020, 1, 1, tzinfo=UTC))
    )
    try:
        trainer = Trainer(region="R", country="C")
        app.save(trainer)
        person = runtime.service.register_person(REGISTRAR, "Bench", "b@example.org", "O", "R", "C")

        def library() -> int:
            for n in range(per_round):
                loaded = app.repository.get(trainer.id)
                loaded.deliver(
                    f"d{n}", "R", 10, False, None, "registrar-bench", "registrar", "2019-06-01"
                )
                app.save(loaded)
            return per_round

        def service() -> int:
            for _ in range(per_round):
                runtime.service.record_course(REGISTRAR, person.id, date(2019, 6, 1), "R", 10)
            return per_round

        yield library, service
    finally:
        runtime.close()
        app.close()


def append_rates(places: Places, backend: str, count: int) -> tuple[float, float]:
    """The plain library and the service layer in alternated rounds; each side's best round
    counts: on a shared machine a round can meet a stall of the disk or of the other core, and
    taking turns gives both sides the same chances of one."""
    with append_sides(places, backend, count) as (library, service):
        rounds = [(timed(library), timed(service)) for _ in range(ROUNDS)]
    return max(r[0] for r in rounds), max(r[1] for r in rounds)


def http_rate(
    places: Places,
    backend: str,
    count: int,
    serving: Callable[[Settings], Any] | None = None,
    name: str = "http",
) -> dict[str, float]:
    """POST /people/{id}/courses from 16 keep-alive clients in another process, each client
    on its own person, to a fresh ledger served as deployed: on SQLite `ledger serve` with its
    worker inside; on PostgreSQL an API process and `ledger worker` (deploy/)."""
    if serving is None:
        serving = serve_deployed if backend == "postgres" else serve
    settings = places.settings(backend, name)
    runtime = open_runtime(settings)
    try:
        people = [
            str(
                runtime.service.register_person(
                    REGISTRAR, f"Bench {n}", f"b{n}@example.org", "O", "R", "C"
                ).id
            )
            for n in range(HTTP_CLIENTS)
        ]
    finally:
        runtime.close()
    secret = token(settings, "bench-registrar", Role.REGISTRAR)
    body = {"delivered_on": "2019-06-01", "region": "R", "participants": 10}
    with serving(settings) as server:
        urls = [f"{server.base}/v1/people/{p}/courses" for p in people]
        auth = {"Authorization": f"Bearer {secret}"}
        if shutil.which("wrk"):  # a client whose own work does not take the server's cores
            return wrk(urls, HTTP_SECONDS, connections=HTTP_CLIENTS, post=body, headers=auth)
        return run_load(
            {
                "method": "POST",
                "urls": urls,
                "connections": HTTP_CLIENTS,
                "requests": count,
                "headers": auth,
                "json": body,
            }
        )


def append_figures(places: Places, backend: str, count: int) -> list[Figure]:
    """The three sides take turns, ROUNDS rounds: a round of the plain library, one of the
    service layer, one HTTP run (each on a fresh ledger); each side's best round counts, the
    baseline's as the service layer's and the HTTP run's."""
    rounds = []
    with append_sides(places, backend, count) as (library, service):
        for n in range(ROUNDS):
            http = http_rate(places, backend, count, name=f"http-{n}")
            rounds.append((timed(library), timed(service), http))
    baseline = max(r[0] for r in rounds)
    service_rate = max(r[1] for r in rounds)
    http = max((r[2] for r in rounds), key=lambda found: found["requests_per_second"])
    every = ", ".join(f"{r[2]['requests_per_second']:,.0f}" for r in rounds)
    return [
        ratio_figure(
            "append: service layer, single-event commands",
            backend,
            service_rate,
            "events/s",
            baseline,
            0.8,
            ">= 0.8x plain library",
        ),
        ratio_figure(
            "append: HTTP POST, 16 keep-alive clients",
            backend,
            http["requests_per_second"],
            "events/s",
            baseline,
            0.5,
            ">= 0.5x plain library",
            detail=f"the best of {ROUNDS} runs of {HTTP_SECONDS} s, taking turns with the"
            f" library's rounds (every run: {every}/s); p50 {http['p50_ms']:.1f} ms, p99"
            f" {http['p99_ms']:.1f} ms, {http['errors']:.0f} failed"
            + (
                "; an API process and `ledger worker`, as deployed" if backend == "postgres" else ""
            ),
        ),
    ]


def import_figures(
    places: Places, backend: str, bundle: Path, records: int, keys: str
) -> list[Figure]:
    """`ledger import` of a bundle (audit, insert, log, checkpoints, projections) into an empty
    ledger, against the plain library's recorder inserting the same rows into an empty store."""
    from ledger.audit.bundle import Bundle
    from ledger.audit.importer import import_bundle, stored_event

    # A restore: an empty ledger with the exporting ledger's key folder, as after a disaster.
    from ledger.integrity.trust_root import TrustRoot

    settings = places.settings(backend, "import", keys=keys)
    runtime = open_runtime(settings, genesis=False)  # the bundle brings the genesis
    root = TrustRoot.parse((settings.keys_dir / "trust-root.json").read_bytes())
    try:
        rate = timed(lambda: import_bundle(runtime, bundle, trust_root=root).records)
    finally:
        runtime.close()
    app: Application[Any] = Application(
        env=backend_env(places.settings(backend, "import-baseline", keys=keys))
    )

    def insert() -> int:
        count = 0
        batch: list[StoredEvent] = []
        for data, _ in Bundle(bundle).records():
            batch.append(stored_event(data))
            count += 1
            if len(batch) >= 2000:
                app.recorder.insert_events(batch)
                batch = []
        if batch:
            app.recorder.insert_events(batch)
        return count

    try:
        baseline = timed(insert)
    finally:
        app.close()
    return [
        ratio_figure(
            f"bulk import of {records:,} records (audit, log, projections)",
            backend,
            rate,
            "events/s",
            baseline,
            IMPORT_GOAL,
            f">= {IMPORT_GOAL}x the library's raw inserts of the same rows",
        )
    ]
