"""Corrections and merges in the projections: each shows where it matters (the roster, a
trainer's row, a certificate's evidence), and a rebuild from the records alone, by the ledger
or by the independent verifier written from the format document, gives the live digests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from ledger.domain.actors import Actor, Role
from ledger.runtime import Runtime
from ledger.service import LedgerService
from projections import ALL, certificate_register, programme_roster, trainer_status
from projections.base import MemoryView, Projection, replay, replay_all
from tests.builders import COMMITTEE, REGISTRAR, cohort, licensed, qualified, register
from tests.conftest import Ledger
from tests.independent import verifier
from tests.integration.test_audit_bundle import env_for, ledger_cli

WEEK_3, WEEK_6 = date(2013, 2, 11), date(2013, 5, 27)  # week starts in the builders' programme


def records(runtime: Runtime) -> list[bytes]:
    return [row.data for row in runtime.log_storage.all_events()]


def positions_of(runtime: Runtime, type_name: str) -> list[int]:
    """The log positions of the records of one type."""
    return [
        position
        for position, data in enumerate(records(runtime))
        if json.loads(data)["type"] == type_name
    ]


def rows(runtime: Runtime, projection: Projection) -> MemoryView:
    """The projection rebuilt from the records (its digest equals the live one: asserted in
    the first test)."""
    return replay(projection, records(runtime))


def awarded_after_a_missed_week(service: LedgerService) -> tuple[Any, str]:
    """A member who attended weeks 1 to 5, was recorded absent in week 6, and was awarded."""
    group = cohort(service, attended=5)
    service.record_attendance(REGISTRAR, group.programme_id, group.members[0], 6, attended=False)
    service.sign_off(group.tutor, group.project_id, "Good work", on=date(2013, 7, 10))
    certificate = service.award_qualification(
        COMMITTEE, group.programme_id, group.members[0], on=date(2013, 7, 20)
    ).id
    return group, certificate


def second_project(service: LedgerService, programme_id: str) -> tuple[str, str]:
    """Another field project of the programme, with its own tutor and one member: (project
    id, tutor id)."""
    project = service.register_project(
        REGISTRAR, programme_id, "Marine Cluster Galicia", "Marine", "Galicia", "Spain"
    ).id
    tutor = register(service, "Greta Guide", "Harbour Institute", region="Galicia")
    service.assign_tutor(REGISTRAR, project, tutor)
    member = register(service, "Nina Novak", "Port Agency", region="Galicia")
    service.enrol(REGISTRAR, programme_id, member, consortium=None)
    service.assign_member(REGISTRAR, project, member)
    return project, tutor


def history_with_every_correction(service: LedgerService) -> dict[str, str]:
    """Every kind of correction and a merge, on one ledger."""
    group, certificate = awarded_after_a_missed_week(service)
    member = group.members[0]
    service.correct_attendance(
        REGISTRAR, group.programme_id, member, 6, True, "Signed in late; the sheet shows it"
    )
    delivery = service.record_course(REGISTRAR, member, date(2014, 2, 1), "Cantabria", 12).id
    service.retract_course(REGISTRAR, member, delivery, "Recorded for the wrong trainer")
    other = second_project(service, group.programme_id)
    service.sign_off(Actor(other[1], Role.TUTOR), other[0], "Good work", on=date(2013, 7, 10))
    service.withdraw_sign_off(REGISTRAR, other[0], "Signed off the wrong project")
    duplicate = register(service, "Member Zero Again", "Agency 0b")
    kept_course = service.record_course(REGISTRAR, duplicate, date(2014, 3, 1), "Cantabria", 9).id
    service.mark_duplicate(REGISTRAR, duplicate, member, "Registered twice")
    return {
        "member": member,
        "certificate": certificate,
        "retracted": delivery,
        "project": other[0],
        "duplicate": duplicate,
        "duplicate_course": kept_course,
        "programme": group.programme_id,
    }


def test_live_digests_equal_a_rebuild_and_the_independent_replay_after_corrections_and_a_merge(
    runtime: Runtime,
) -> None:
    history_with_every_correction(runtime.service)
    runtime.runner.catch_up()
    live = runtime.runner.digests()
    assert replay_all(ALL, records(runtime)) == live
    independent = verifier.replay(records(runtime), list(verifier.PROJECTIONS))
    assert independent == live
    assert {p.name: p.version for p in ALL} == {
        name: version for name, (version, _) in verifier.PROJECTIONS.items()
    }
    for projection in ALL:
        runtime.runner.rebuild(projection.name)
    assert runtime.runner.digests() == live


def test_an_exported_bundle_with_corrections_and_a_merge_verifies_independently(
    ledger: Ledger, runtime: Runtime, tmp_path: Path
) -> None:
    history_with_every_correction(runtime.service)
    env = env_for(ledger.settings)
    exported = ledger_cli("export", str(tmp_path / "bundle"), env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    report = verifier.verify_bundle(tmp_path / "bundle")
    assert report.problems == []
    assert set(report.projections) == set(verifier.PROJECTIONS)


def test_the_independent_verifier_names_a_retraction_of_another_persons_course(
    ledger: Ledger, runtime: Runtime, tmp_path: Path
) -> None:
    made = history_with_every_correction(runtime.service)
    other = register(runtime.service, "Olga Other", "Agency 9")
    elsewhere = runtime.service.record_course(REGISTRAR, other, date(2014, 2, 2), "Cantabria", 7)
    env = env_for(ledger.settings)
    assert ledger_cli("export", str(tmp_path / "bundle"), env=env, cwd=tmp_path).returncode == 0
    bundle = tmp_path / "bundle" / "records.jsonl"
    lines = bundle.read_bytes().split(b"\n")[:-1]
    (position,) = positions_of(runtime, "person.course_retracted")
    lines[position] = lines[position].replace(made["retracted"].encode(), elsewhere.id.encode())
    bundle.write_bytes(b"".join(line + b"\n" for line in lines))
    reasons = " ".join(verifier.verify_bundle(tmp_path / "bundle").at(position))
    assert f"names delivery {elsewhere.id}, which is not a course of stream" in reasons
    assert "signature does not verify" in reasons


def test_an_attendance_correction_after_the_award_is_listed_in_the_certificates_evidence(
    runtime: Runtime,
) -> None:
    group, certificate = awarded_after_a_missed_week(runtime.service)
    member = group.members[0]
    runtime.service.correct_attendance(
        REGISTRAR, group.programme_id, member, 6, True, "Signed in late; the sheet shows it"
    )
    view = rows(runtime, certificate_register.PROJECTION)
    facts = view.get("certificates", certificate)
    assert facts is not None
    (position,) = positions_of(runtime, "enrolment.attendance_corrected")
    assert facts["evidence"]["corrections"] == [
        {
            "position": position,
            "type": "enrolment.attendance_corrected",
            "on": WEEK_6.isoformat(),
            "week": 6,
            "attended": True,
        }
    ]
    assert facts["evidence"]["attendance"]["weeks"] == 5  # what the decision relied on


def test_the_roster_applies_an_attendance_correction_and_lists_it(runtime: Runtime) -> None:
    group = cohort(runtime.service, attended=6)
    member = group.members[0]
    runtime.service.correct_attendance(
        REGISTRAR, group.programme_id, member, 3, False, "Was at a trade fair that week"
    )
    view = rows(runtime, programme_roster.PROJECTION)
    (enrolment_id, enrolment) = next(iter(view.rows("enrolments")))
    assert enrolment["attendance"]["3"] is False
    (position,) = positions_of(runtime, "enrolment.attendance_corrected")
    assert enrolment["corrections"] == [[3, False, position, WEEK_3.isoformat()]]
    programme = view.get("programmes", group.programme_id)
    project = view.get("projects", group.project_id)
    assert programme is not None
    eligibility = programme_roster.eligibility(programme, enrolment, project)
    assert (eligibility["R2"], eligibility["weeks_attended"]) == (True, 5)
    assert enrolment_id


def test_a_withdrawn_sign_off_reopens_the_project_and_a_return_keeps_its_date(
    runtime: Runtime,
) -> None:
    service = runtime.service
    group = cohort(service)
    service.sign_off(group.tutor, group.project_id, "Good work", on=date(2013, 5, 1))
    service.return_project(group.tutor, group.project_id, "Needs numbers", on=date(2013, 5, 2))
    service.sign_off(group.tutor, group.project_id, "Now complete", on=date(2013, 6, 3))
    service.withdraw_sign_off(group.tutor, group.project_id, "Signed off too early")
    project = rows(runtime, programme_roster.PROJECTION).get("projects", group.project_id)
    assert project is not None
    assert project["status"] == "open"
    assert (project["signed_off_by"], project["signed_off_on"]) == (None, None)
    assert project["returned_on"] == "2013-05-02"
    assert project["withdrawn_on"] == runtime.service.clock.now().date().isoformat()
    register_view = rows(runtime, certificate_register.PROJECTION)
    assert register_view.get("sign_offs", group.project_id) is None


def test_a_retracted_course_stays_in_the_trainers_history_and_no_longer_counts(
    runtime: Runtime,
) -> None:
    service = runtime.service
    group, _ = licensed(service)
    member = group.members[0]
    delivery = service.record_course(REGISTRAR, member, date(2014, 5, 1), "Cantabria", 11)
    service.retract_course(REGISTRAR, member, delivery.id, "Another trainer's course")
    trainer = rows(runtime, trainer_status.PROJECTION).get("trainers", member)
    assert trainer is not None
    retracted = [d for d in trainer["deliveries"] if d[3] == delivery.id]
    position = positions_of(runtime, "person.course_delivered")[-1]
    (retracted_at,) = positions_of(runtime, "person.course_retracted")
    assert retracted == [["2014-05-01", position, False, delivery.id, retracted_at, "2017-06-01"]]
    assert [d[4] for d in trainer["deliveries"] if d[3] != delivery.id] == [None]
    register_view = rows(runtime, certificate_register.PROJECTION)
    courses = register_view.get("courses", member)
    assert courses is not None
    assert delivery.id not in [d[3] for d in courses["deliveries"]]


def test_a_licence_names_as_evidence_exactly_the_courses_its_decision_counted(
    runtime: Runtime,
) -> None:
    _, licence = licensed(runtime.service)
    view = rows(runtime, certificate_register.PROJECTION)
    facts = view.get("certificates", licence)
    assert facts is not None
    counted = _payload_of(runtime, licence)["courses"]
    assert facts["evidence"]["courses"] == _course_positions(runtime, counted)
    assert len(facts["evidence"]["courses"]) == 1


def test_a_licence_of_a_person_read_as_one_names_the_courses_of_everyone_merged(
    runtime: Runtime,
) -> None:
    """Courses recorded for a duplicate before the merge count for the kept person, and are
    named in the evidence of a licence granted to either of them."""
    service = runtime.service
    group, qualification = qualified(service)
    kept = group.members[0]
    service.publish_material(REGISTRAR, "ECEI-2014", "ECEI material", on=date(2014, 1, 10))
    duplicate = register(service, "Member Zero Again", "Agency 0b")
    theirs = service.record_course(REGISTRAR, duplicate, date(2014, 1, 20), "Asturias", 8)
    service.mark_duplicate(REGISTRAR, duplicate, kept, "Registered twice")
    own = service.record_course(REGISTRAR, kept, date(2014, 2, 1), "Cantabria", 14)
    licence = service.grant_licence(
        COMMITTEE, qualification, ["Cantabria"], ["es"], "ECEI-2014", on=date(2014, 3, 3)
    ).id
    counted = _payload_of(runtime, licence)["courses"]
    assert sorted(counted) == sorted([theirs.id, own.id])
    facts = rows(runtime, certificate_register.PROJECTION).get("certificates", licence)
    assert facts is not None
    assert facts["evidence"]["courses"] == _course_positions(runtime, counted)
    assert len(facts["evidence"]["courses"]) == 2
    independent = verifier.replay(records(runtime), ["certificate_register"])
    assert independent == replay_all([certificate_register.PROJECTION], records(runtime))


def _course_positions(runtime: Runtime, delivery_ids: list[str]) -> list[int]:
    """The log positions of the course records of these deliveries, read from the records."""
    return [
        position
        for position, data in enumerate(records(runtime))
        if (record := json.loads(data))["type"] == "person.course_delivered"
        and record["payload"]["delivery_id"] in delivery_ids
    ]


def test_the_kept_person_takes_in_the_duplicates_courses_and_certificates(
    runtime: Runtime,
) -> None:
    service = runtime.service
    group, licence = licensed(service)
    duplicate = register(service, "Member Zero Again", "Agency 0b")
    course = service.record_course(REGISTRAR, duplicate, date(2013, 12, 1), "Asturias", 8)
    kept = group.members[0]
    service.mark_duplicate(REGISTRAR, duplicate, kept, "Registered twice")
    view = rows(runtime, trainer_status.PROJECTION)
    kept_row, duplicate_row = view.get("trainers", kept), view.get("trainers", duplicate)
    assert kept_row is not None
    assert duplicate_row is not None
    assert (duplicate_row["duplicate_of"], duplicate_row["merged"]) == (kept, [])
    assert (kept_row["duplicate_of"], kept_row["merged"]) == (None, [duplicate])
    assert licence in kept_row["certificates"]
    positions = [d[1] for d in kept_row["deliveries"]]
    assert positions == sorted(positions)
    assert course.id in [d[3] for d in kept_row["deliveries"]]
    assert [d[3] for d in duplicate_row["deliveries"]] == [course.id]


def _payload_of(runtime: Runtime, certificate_id: str) -> dict[str, Any]:
    """The payload of the record that issued a certificate (read as an auditor would)."""
    for data in records(runtime):
        record = json.loads(data)
        if record["payload"].get("certificate_id") == certificate_id and record["version"] == 1:
            payload: dict[str, Any] = record["payload"]
            return payload
    raise AssertionError(f"no record issues {certificate_id}")


def _record(stream: str, version: int, type_name: str, on: str | None, **payload: Any) -> bytes:
    """A record as projections read it (stream, version, type, time, payload): unsigned, for
    histories the service would refuse to write but a replay must still fold the same way."""
    members = {"actor": "staff-0000000000000001", "role": "registrar", "effective_on": on}
    return json.dumps(
        {
            "stream": stream,
            "version": version,
            "type": type_name,
            "recorded_at": "2017-06-01T09:00:00.000000Z",
            "payload": members | payload,
        }
    ).encode()


def test_courses_and_certificates_of_a_duplicate_reach_every_person_it_was_merged_into() -> None:
    first, second, third = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
    history = [
        *(
            _record(person, 1, "person.registered", None, region="Cantabria", country="Spain")
            for person in (first, second, third)
        ),
        _record(
            first,
            2,
            "person.course_delivered",
            "2014-02-01",
            delivery_id="d-1",
            region="Cantabria",
            participants=9,
            full_programme=False,
            observed_by=None,
        ),
        _record(first, 3, "person.marked_duplicate", None, duplicate_of=second, reason="x"),
        _record(second, 2, "person.duplicate_merged", None, duplicate_id=first),
        _record(second, 3, "person.marked_duplicate", None, duplicate_of=third, reason="x"),
        _record(
            first,
            4,
            "person.course_delivered",
            "2014-03-01",
            delivery_id="d-2",
            region="Cantabria",
            participants=9,
            full_programme=True,
            observed_by=None,
        ),
        _record(first, 5, "person.course_retracted", "2014-04-01", delivery_id="d-1", reason="x"),
        _record(
            "00000000-0000-4000-8000-000000000009",
            1,
            "certificate.associate_trainer_issued",
            "2014-05-01",
            certificate_id="AT-0000-0000-0000",
            holder_id=first,
            programme_id="00000000-0000-4000-8000-000000000007",
            enrolment_id="00000000-0000-4000-8000-000000000008",
            project_id="00000000-0000-4000-8000-000000000006",
            weeks_attended=6,
        ),
    ]
    view = replay(trainer_status.PROJECTION, history)
    kept, middle, duplicate = (view.get("trainers", p) for p in (third, second, first))
    assert kept is not None
    assert middle is not None
    assert duplicate is not None
    assert (duplicate["duplicate_of"], middle["duplicate_of"], kept["duplicate_of"]) == (
        second,
        third,
        None,
    )
    assert (middle["merged"], kept["merged"]) == ([first], [second, first])
    expected = [
        ["2014-02-01", 3, False, "d-1", 8, "2014-04-01"],
        ["2014-03-01", 7, True, "d-2", None, None],
    ]
    assert kept["deliveries"] == middle["deliveries"] == duplicate["deliveries"] == expected
    for row in (kept, middle, duplicate):
        assert row["certificates"] == ["AT-0000-0000-0000"]
    assert replay_all(ALL, history) == verifier.replay(history, list(verifier.PROJECTIONS))
