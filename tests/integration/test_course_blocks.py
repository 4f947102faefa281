"""A person's courses in blocks of 32 (docs/ledger-format.md 14.1): a course rewrites a row of
at most 32 courses however many the trainer has, and everything read from the courses (a
trainer's history, a retraction, a merge, a licence's evidence) sees every block; the ledger's
replay and the independent verifier's give the same digests."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from ledger.runtime import Runtime
from projections import ALL, certificate_register, courses, trainer_status
from projections.base import MemoryView, replay, replay_all
from tests.builders import REGISTRAR, register
from tests.independent import verifier
from tests.integration.test_projection_corrections import _record, records

FIRST, SECOND = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
LICENCE_STREAM = "00000000-0000-4000-8000-000000000009"


def _course(person: str, version: int, n: int) -> bytes:
    on = (date(2014, 1, 1) + timedelta(days=n)).isoformat()
    return _record(
        person,
        version,
        "person.course_delivered",
        on,
        delivery_id=f"{person[-1]}-{n}",
        region="Cantabria",
        participants=9,
        full_programme=n % 3 == 0,
        observed_by=None,
    )


def history() -> tuple[list[bytes], dict[str, int]]:
    """FIRST delivers 70 courses and SECOND 40; a course in FIRST's first block and one of its
    newest are retracted; SECOND is marked a duplicate of FIRST and delivers one more; a
    licence of FIRST counts courses from blocks of both. Also: the log position of each
    course, by delivery id."""
    out = [
        _record(person, 1, "person.registered", None, region="Cantabria", country="Spain")
        for person in (FIRST, SECOND)
    ]
    version = {FIRST: 1, SECOND: 1}
    positions: dict[str, int] = {}

    def add(person: str, record: bytes) -> None:
        version[person] += 1
        out.append(record)

    for person, count in ((FIRST, 70), (SECOND, 40)):
        for n in range(count):
            positions[f"{person[-1]}-{n}"] = len(out)
            add(person, _course(person, version[person] + 1, n))
    for delivery in ("1-5", "1-69"):
        add(
            FIRST,
            _record(
                FIRST,
                version[FIRST] + 1,
                "person.course_retracted",
                "2015-01-01",
                delivery_id=delivery,
                reason="x",
            ),
        )
    add(SECOND, _record(SECOND, version[SECOND] + 1, "person.marked_duplicate", None,
                        duplicate_of=FIRST, reason="Registered twice"))  # fmt: skip
    positions["2-40"] = len(out)
    add(SECOND, _course(SECOND, version[SECOND] + 1, 40))
    out.append(
        _record(
            LICENCE_STREAM,
            1,
            "certificate.licence_granted",
            "2015-02-01",
            certificate_id="LT-0000-0000-0000",
            holder_id=FIRST,
            programme_id="00000000-0000-4000-8000-000000000007",
            qualification_id="AT-0000-0000-0000",
            regions=["Cantabria"],
            languages=["es"],
            material_version="ECEI-2014",
            valid_from="2015-02-01",
            valid_until="2018-02-01",
            courses=["1-0", "1-40", "2-3", "2-39", "2-40"],
        )
    )
    return out, positions


def test_a_trainers_row_keeps_fewer_than_32_courses_and_the_blocks_the_rest() -> None:
    records_, positions = history()
    view = replay(trainer_status.PROJECTION, records_)
    first, second = view.get("trainers", FIRST), view.get("trainers", SECOND)
    assert first is not None
    assert second is not None
    every = courses.every(view, FIRST, first)
    # FIRST's own 70 and SECOND's 41, each once, in log order.
    assert [d[3] for d in every] == sorted(positions, key=positions.__getitem__)
    assert [d[1] for d in every] == sorted(positions.values())
    retracted = {d[3]: d[4] for d in every if d[4] is not None}
    assert set(retracted) == {"1-5", "1-69"}
    # The merge set FIRST's list to 110 courses (3 blocks, 14 in the row); one more came after.
    assert (first["blocks"], len(first["deliveries"])) == (3, 15)
    assert (second["blocks"], len(second["deliveries"])) == (1, 9)
    blocks = [json.loads(row) for table, _, row in view.all_rows() if table == courses.BLOCKS]
    assert [len(block["deliveries"]) for block in blocks] == [32] * 4


def test_a_retraction_in_a_block_and_a_licence_counting_courses_in_blocks() -> None:
    records_, positions = history()
    view = replay(certificate_register.PROJECTION, records_)
    first = view.get("courses", FIRST)
    assert first is not None
    own = [d[3] for d in courses.every(view, FIRST, first)]
    assert "1-5" not in own
    assert "1-69" not in own
    assert len(own) == 68
    assert view.get(courses.BLOCKS, courses.block_key(FIRST, 0)) is not None
    facts = view.get("certificates", "LT-0000-0000-0000")
    assert facts is not None
    counted = ["1-0", "1-40", "2-3", "2-39", "2-40"]
    assert facts["evidence"]["courses"] == sorted(positions[d] for d in counted)


def test_the_independent_verifier_reproduces_every_digest_of_a_history_in_blocks() -> None:
    records_, _ = history()
    assert replay_all(ALL, records_) == verifier.replay(records_, list(verifier.PROJECTIONS))


def _row_sizes(view: MemoryView) -> dict[str, int]:
    return {f"{table}/{key}": len(data) for table, key, data in view.all_rows()}


def test_live_courses_beyond_a_block_read_back_whole_and_rebuild_to_the_same_digests(
    runtime: Runtime,
) -> None:
    service = runtime.service
    person = register(service, "Ingrid Example", "Cluster Agency", region="Cantabria")
    recorded: list[Any] = [
        service.record_course(REGISTRAR, person, date(2014, 1, 1) + timedelta(days=n), "R", 10)
        for n in range(40)
    ]
    service.retract_course(REGISTRAR, person, recorded[3].id, "Another trainer's course")
    runtime.runner.catch_up()
    row = runtime.queries.trainer(person)
    assert row is not None
    assert (row["blocks"], len(row["deliveries"])) == (1, 8)
    found = runtime.queries.deliveries_of(person)
    assert len(found) == 40
    assert [d.retracted_at is not None for d in found] == [n == 3 for n in range(40)]
    status = runtime.queries.trainer_status(person, date(2030, 1, 1))
    assert status is not None
    assert status["courses_delivered"] == 39
    live = runtime.runner.digests()
    assert replay_all(ALL, records(runtime)) == live
    assert verifier.replay(records(runtime), list(verifier.PROJECTIONS)) == live
    for projection in ALL:
        runtime.runner.rebuild(projection.name)
    assert runtime.runner.digests() == live
    sizes = _row_sizes(replay(trainer_status.PROJECTION, records(runtime)))
    assert sizes[f"trainers/{person}"] < sizes[f"{courses.BLOCKS}/{courses.block_key(person, 0)}"]
