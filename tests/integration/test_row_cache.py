"""The live runner keeps the rows it committed last (ledger.views.sql.RowCache): the next batch
finds them without reading them, and the projections stay exactly what a replay of the records
gives when another process applies events in between, and when a batch fails midway."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.clock import ManualClock
from ledger.db import Database
from ledger.runtime import Runtime, open_runtime
from ledger.views.runner import ProjectionRunner
from projections import ALL, BY_NAME
from projections.base import Event, Projection, View, replay_all
from tests.builders import REGISTRAR, register
from tests.conftest import make_settings
from tests.integration.test_projection_corrections import records


def _course(runtime: Runtime, person: str, day: int) -> None:
    runtime.service.record_course(REGISTRAR, person, date(2014, 1, day), "Cantabria", 10)


def _reads(db: Database, runner: ProjectionRunner) -> int:
    """Rows the runner's next batch reads from its tables (statements counted on SQLite)."""
    conn = db._sqlite(durable=False)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        runner.run_all_once()
    finally:
        conn.set_trace_callback(None)
    return sum(1 for s in seen if s.startswith("SELECT data FROM"))


def test_a_batch_reads_none_of_the_rows_the_batch_before_wrote(
    tmp_path: Path, request: pytest.FixtureRequest, clock: ManualClock
) -> None:
    """Counted on SQLite, whose statements can be traced."""
    runtime = open_runtime(make_settings("sqlite", tmp_path, request), clock=clock)
    try:
        person = register(runtime.service, "Ingrid Example", "Cluster Agency")
        _course(runtime, person, 2)
        runtime.runner.catch_up()  # a bulk batch: it keeps no rows
        _course(runtime, person, 3)
        assert _reads(runtime.db, runtime.runner) == 2  # the trainer's row in two projections
        _course(runtime, person, 4)
        assert _reads(runtime.db, runtime.runner) == 0  # a live batch found what the last kept
        _course(runtime, person, 5)
        runtime.runner._caches.clear()  # as a runner new to these rows
        assert _reads(runtime.db, runtime.runner) == 2
    finally:
        runtime.close()


def test_events_applied_by_another_runner_in_between_are_not_hidden_by_the_cache(
    runtime: Runtime, tmp_path: Path
) -> None:
    person = register(runtime.service, "Ingrid Example", "Cluster Agency")
    _course(runtime, person, 2)
    runtime.runner.catch_up()
    other_db = Database(runtime.settings)  # another process's runner, on the same tables
    try:
        _course(runtime, person, 3)
        assert ProjectionRunner(other_db).catch_up() == 1
    finally:
        other_db.close()
    _course(runtime, person, 4)
    assert runtime.runner.catch_up() == 1
    assert runtime.runner.digests() == replay_all(ALL, records(runtime))
    assert [d.on for d in runtime.queries.deliveries_of(person)] == [
        "2014-01-02",
        "2014-01-03",
        "2014-01-04",
    ]


def _failing(projection: Projection) -> Projection:
    """`projection` whose course handler changes the row it read, then fails."""

    def fail(view: View, event: Event) -> None:
        row = view.get("trainers", event.stream)
        assert row is not None
        row["region"] = "changed by a batch that failed"
        raise RuntimeError("a handler failed")

    return Projection(
        projection.name,
        projection.version,
        {**projection.handlers, "person.course_delivered": fail},
    )


def test_a_failed_batch_leaves_no_row_changed_in_the_cache(runtime: Runtime) -> None:
    person = register(runtime.service, "Ingrid Example", "Cluster Agency")
    _course(runtime, person, 2)
    runtime.runner.catch_up()
    _course(runtime, person, 3)
    runner = runtime.runner
    status = BY_NAME["trainer_status"]
    runner.projections["trainer_status"] = _failing(status)
    try:
        with pytest.raises(RuntimeError, match="a handler failed"):
            runner.run_all_once()
    finally:
        runner.projections["trainer_status"] = status
    assert runner.catch_up() == 1
    row = runtime.queries.trainer(person)
    assert row is not None
    assert row["region"] != "changed by a batch that failed"
    assert runner.digests() == replay_all(ALL, records(runtime))
