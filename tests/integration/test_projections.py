"""Projections: exactly once, rebuildable without downtime, equal to a replay of the records,
the same on both backends, and answering for the past (as_of, known_at)."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.runtime import Runtime, open_runtime
from ledger.views.sql import trackings
from ledger.workload import generate
from projections import ALL
from projections.base import Event, MemoryView, Projection, digest, replay_all
from tests.builders import COMMITTEE, REGISTRAR, licensed
from tests.conftest import Ledger
from tests.integration.test_audit_bundle import ROOT, env_for, ledger_cli


def fresh_rebuild(runtime: Runtime) -> dict[str, str]:
    return replay_all(ALL, (row.data for row in runtime.log_storage.all_events()))


def test_live_projections_equal_a_rebuild_from_the_records_for_a_large_random_history(
    runtime: Runtime,
) -> None:
    generate(runtime.service, 5000, seed=11)
    runtime.runner.catch_up()
    live = runtime.runner.digests()
    assert live == fresh_rebuild(runtime)
    events = sum(1 for _ in runtime.log_storage.all_events())
    assert events >= 5000
    assert all(s.position == events and s.lag == 0 for s in runtime.runner.status())
    for projection in ALL:
        runtime.runner.rebuild(projection.name)
    assert runtime.runner.digests() == live


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_digests_for_the_same_history(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from ledger.clock import ManualClock
    from tests.conftest import make_settings

    sqlite_settings = make_settings("sqlite", tmp_path, request)
    postgres = make_settings("postgres", tmp_path, request)
    clock = ManualClock(datetime(2017, 6, 1, 9, 0, tzinfo=UTC))
    source = open_runtime(sqlite_settings, clock=clock)
    try:
        generate(source.service, 1500, seed=5)
    finally:
        source.close()
    env = env_for(sqlite_settings)
    assert ledger_cli("export", str(tmp_path / "bundle"), env=env, cwd=tmp_path).returncode == 0
    imported = ledger_cli("import", str(tmp_path / "bundle"), env=env_for(postgres), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    sqlite_rt = open_runtime(sqlite_settings, clock=clock)
    pg_rt = open_runtime(postgres, clock=clock)
    try:
        sqlite_rt.catch_up()
        pg_rt.runner.catch_up()
        assert pg_rt.runner.digests() == sqlite_rt.runner.digests()
        latest_sqlite, latest_pg = (
            sqlite_rt.public_log.latest_checkpoint(),
            pg_rt.public_log.latest_checkpoint(),
        )
        assert latest_sqlite is not None
        assert latest_pg is not None
        assert latest_pg.root == latest_sqlite.root
    finally:
        sqlite_rt.close()
        pg_rt.close()


def test_a_rebuild_swaps_in_while_reads_keep_being_answered(runtime: Runtime) -> None:
    made = generate(runtime.service, 600, seed=3)
    runtime.runner.catch_up()
    certificate = made.licences[0]
    before = runtime.runner.digests()
    answers: list[object] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                answers.append(runtime.queries.certificate_status(certificate, date(2016, 1, 1)))
            except BaseException as exc:
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        tracking = runtime.runner.rebuild("certificate_register")
    finally:
        stop.set()
        reader.join()
    assert tracking.generation == 2
    assert errors == []
    assert answers
    assert all(a is not None for a in answers)
    assert runtime.runner.digests() == before


def test_a_licence_reads_as_expired_after_its_term_without_any_event(runtime: Runtime) -> None:
    _, licence = licensed(runtime.service)
    runtime.runner.catch_up()
    on_last_day = runtime.queries.certificate_status(licence, date(2016, 3, 2))
    day_after = runtime.queries.certificate_status(licence, date(2016, 3, 3))
    assert on_last_day is not None
    assert day_after is not None
    assert on_last_day["status"] == "valid"
    assert (day_after["status"], day_after["since"]) == ("expired", "2016-03-03")


def test_a_late_suspension_changes_the_past_as_of_but_not_what_was_known_before(
    runtime: Runtime,
) -> None:
    service = runtime.service
    _, licence = licensed(service)
    runtime.runner.catch_up()
    known_before = runtime.queries.position()
    service.suspend_licence(
        COMMITTEE, licence, "late report", date(2015, 3, 1), on=date(2015, 1, 10)
    )
    runtime.runner.catch_up()
    past = date(2015, 2, 1)
    now_known = runtime.queries.certificate_status(licence, past)
    then_known = runtime.queries.certificate_status(licence, past, known_at=known_before)
    assert now_known is not None
    assert then_known is not None
    assert (now_known["status"], now_known["reason"]) == ("suspended", "late report")
    assert then_known["status"] == "valid"
    present = runtime.queries.certificate_status(licence, past, known_at=runtime.queries.position())
    assert present is not None
    assert present["status"] == now_known["status"]
    assert present["facts"]["suspensions"] == now_known["facts"]["suspensions"]


def test_renewal_and_reinstatement_follow_r6_and_r7_in_the_projection(runtime: Runtime) -> None:
    service = runtime.service
    group, licence = licensed(service)
    for day in (date(2014, 5, 1), date(2015, 6, 1)):
        service.record_course(REGISTRAR, group.members[0], day, "Cantabria", 10)
    service.suspend_licence(COMMITTEE, licence, "audit", date(2015, 4, 10), on=date(2015, 1, 10))
    service.reinstate_licence(COMMITTEE, licence, on=date(2015, 2, 1))
    service.renew_licence(COMMITTEE, licence, on=date(2016, 1, 15))
    runtime.runner.catch_up()
    q = runtime.queries
    assert q.certificate_status(licence, date(2015, 1, 20))["status"] == "suspended"  # type: ignore[index]
    assert q.certificate_status(licence, date(2015, 2, 1))["status"] == "valid"  # type: ignore[index]
    assert q.certificate_status(licence, date(2018, 3, 2))["status"] == "valid"  # type: ignore[index]
    assert q.certificate_status(licence, date(2018, 3, 3))["status"] == "expired"  # type: ignore[index]
    trainer = q.trainer_status(group.members[0], date(2016, 2, 1))
    assert trainer is not None
    assert trainer["courses_delivered"] == 3
    assert [c["status"] for c in trainer["certificates"]] == ["valid", "valid"]


def test_the_roster_shows_eligibility_per_rule(runtime: Runtime) -> None:
    group, _ = licensed(runtime.service)
    runtime.runner.catch_up()
    roster = runtime.queries.roster(group.programme_id)
    assert roster is not None
    (entry,) = roster["enrolments"]
    assert entry["eligibility"] | {} == {
        "R1": True,
        "R2": True,
        "R3": True,
        "R4": False,
        "weeks_attended": 6,
        "weeks_required": 5,
        "awarded": entry["certificate"],
    }


def test_the_public_register_lists_only_opted_in_valid_certificates(runtime: Runtime) -> None:
    group, licence = licensed(runtime.service)
    runtime.runner.catch_up()
    assert runtime.queries.public_register(date(2015, 1, 1)) == []
    runtime.service.set_public_listing(REGISTRAR, group.members[0], True)
    runtime.runner.catch_up()
    listed = runtime.queries.public_register(date(2015, 1, 1), region="Cantabria", kind="licence")
    assert [c["certificate_id"] for c in listed] == [licence]
    assert runtime.queries.public_register(date(2017, 1, 1), kind="licence") == []  # expired


def test_a_command_can_wait_until_its_event_is_projected(runtime: Runtime) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=runtime.runner.run, args=(stop, 0.01))
    thread.start()
    try:
        receipt = runtime.service.register_person(
            REGISTRAR, "Ada Example", "ada@example.org", "A", "Akureyri", "Iceland"
        )
        assert runtime.runner.wait_for(receipt.last_position, timeout=5)
        assert runtime.queries.trainer_status(receipt.id, date(2017, 1, 1)) is not None
    finally:
        stop.set()
        thread.join()


def test_a_runner_killed_mid_batch_resumes_without_applying_anything_twice(
    ledger: Ledger, runtime: Runtime
) -> None:
    generate(runtime.service, 1500, seed=9)
    slow = subprocess.Popen(
        [sys.executable, "-m", "tests.procs.slow_runner"],
        env=env_for(ledger.settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert slow.stdout is not None
    for applied, _line in enumerate(slow.stdout, 1):
        if applied >= 700:  # well inside a batch: rows written, tracking not yet committed
            break
    slow.kill()
    slow.wait(timeout=30)
    runtime.runner.catch_up()
    events = sum(1 for _ in runtime.log_storage.all_events())
    assert all(s.position == events for s in runtime.runner.status())
    assert runtime.runner.digests() == fresh_rebuild(runtime)


@pytest.mark.postgres
def test_two_writer_processes_and_a_runner_process_agree_with_a_rebuild(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from ledger.clock import ManualClock
    from tests.conftest import make_settings

    settings = make_settings("postgres", tmp_path, request)
    open_runtime(settings).close()  # create the tables before the processes race to
    env = env_for(settings)
    runner = subprocess.Popen([sys.executable, "-m", "tests.procs.runner"], env=env, cwd=ROOT)
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.procs.writer", "400", str(seed)], env=env, cwd=ROOT
        )
        for seed in (1, 2)
    ]
    try:
        for writer in writers:
            assert writer.wait(timeout=300) == 0
    finally:
        runner.terminate()
        runner.wait(timeout=30)
    check = open_runtime(settings, clock=ManualClock(datetime(2017, 6, 1, tzinfo=UTC)))
    try:
        check.runner.catch_up()
        assert check.runner.digests() == fresh_rebuild(check)
    finally:
        check.close()


def test_cli_projections_status_and_rebuild(
    ledger: Ledger, runtime: Runtime, tmp_path: Path
) -> None:
    generate(runtime.service, 100)
    env = env_for(ledger.settings)
    status = ledger_cli("projections", "status", "--catch-up", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "certificate_register" in status.stdout
    rebuilt = ledger_cli("projections", "rebuild", "trainer_status", env=env, cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "generation 2" in rebuilt.stdout
    before = runtime.runner.digests()
    everything = ledger_cli("projections", "rebuild", "all", env=env, cwd=tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert sorted(line.split()[1] for line in everything.stdout.splitlines()) == sorted(before)
    assert "rebuilt trainer_status as generation 3" in everything.stdout
    assert "rebuilt certificate_register as generation 2" in everything.stdout
    assert runtime.runner.digests() == before
    unknown = ledger_cli("projections", "rebuild", "nope", env=env, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "no projection 'nope'" in unknown.stderr
    assert shutil.which("pg_dump")


def test_projections_at_different_places_catch_up_together_to_the_same_digests(
    runtime: Runtime,
) -> None:
    generate(runtime.service, 300, seed=5)
    runner = runtime.runner
    runner.batch = 50
    for _ in range(3):
        runner.run_once("trainer_status")  # ahead of the others
    runner.run_once("public_register")
    places = {s.name: s.position for s in runner.status()}
    assert places["trainer_status"] == 150
    assert places["public_register"] == 50
    assert places["certificate_register"] == 0
    runner.catch_up()
    total = sum(1 for _ in runtime.log_storage.all_events())
    assert {s.position for s in runner.status()} == {total}
    assert runner.digests() == fresh_rebuild(runtime)


@pytest.mark.parametrize("hot", [1, 7, 4096])
def test_an_in_memory_replay_gives_the_same_digests_however_few_rows_it_keeps_parsed(
    runtime: Runtime, hot: int
) -> None:
    generate(runtime.service, 400, seed=3)
    runtime.runner.catch_up()
    views = [(projection, MemoryView(hot=hot)) for projection in ALL]
    for position, row in enumerate(runtime.log_storage.all_events()):
        event = Event.from_record(position, row.data)
        for projection, view in views:
            projection.apply(view, event)
    assert {p.name: digest(v) for p, v in views} == runtime.runner.digests()


def test_a_batch_pauses_the_cycle_collector_and_resumes_it_even_when_a_handler_fails(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(runtime.service, 60, seed=2)
    runner = runtime.runner
    live = runner.projections["trainer_status"]
    collecting: list[bool] = []
    failing = threading.Event()

    def watched(view: Any, event: Event) -> None:
        collecting.append(gc.isenabled())
        if failing.is_set():
            raise RuntimeError("a handler failed")
        live.apply(view, event)

    watching = Projection(live.name, live.version, dict.fromkeys(live.handlers, watched))
    monkeypatch.setitem(runner.projections, "trainer_status", watching)
    assert gc.isenabled()
    runner.batch = 40
    assert runner.run_once("trainer_status") == 40
    assert collecting
    assert not any(collecting)  # paused while the batch was applied
    assert gc.isenabled()  # and resumed after it

    failing.set()
    before = {s.name: s.position for s in runner.status()}["trainer_status"]
    with pytest.raises(RuntimeError, match="a handler failed"):
        runner.run_once("trainer_status")
    assert gc.isenabled()
    assert {s.name: s.position for s in runner.status()}["trainer_status"] == before


@pytest.mark.parametrize("secure_delete", [1, 0])
def test_a_replaced_generation_is_dropped_on_the_next_rebuild_leaving_the_connection_as_it_was(
    runtime: Runtime, secure_delete: int
) -> None:
    generate(runtime.service, 300, seed=3)
    runtime.runner.catch_up()
    before = runtime.runner.digests()
    db = runtime.db
    db.secure_delete(bool(secure_delete))  # this thread's connection, which the swaps use
    first = runtime.runner.rebuild("trainer_status")
    second = runtime.runner.rebuild("trainer_status")
    assert (first.generation, second.generation) == (2, 3)
    with db.read() as tx:
        generations = [t.generation for t in trackings(tx, db, "trainer_status")]
        tables = tx.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?"
            if db.postgres
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
            (db.schema,) if db.postgres else ("proj_trainer_status_g%",),
        ).fetchall()
    assert generations == [2, 3]  # the first is gone; the one just replaced stays for readers
    names = {row[0] for row in tables}
    assert {"proj_trainer_status_g2", "proj_trainer_status_g3"} <= names
    assert "proj_trainer_status_g1" not in names
    assert runtime.runner.digests() == before
    if not db.postgres:
        # Its pages were freed, and the connection still overwrites freed pages (or not) as it
        # did before: erasing a person relies on it.
        with db.read() as tx:
            assert tx.execute("PRAGMA freelist_count").fetchone()[0] > 0
            assert tx.execute("PRAGMA secure_delete").fetchone()[0] == secure_delete
