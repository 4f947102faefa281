"""The demo: the 1st programme as the press release of 19 July 2013 tells it, plus invented later
history, loaded through the service layer on both backends; it reads as designed whatever the
date it is loaded on (after 2016)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ledger.clock import ManualClock
from ledger.demo import DEMO_PROGRAMME_TITLE, DemoResult, is_loaded, load_demo
from ledger.domain.certificates import Qualification
from ledger.domain.errors import Conflict
from ledger.domain.person import ERASED
from ledger.runtime import Runtime, open_runtime
from tests.conftest import Ledger
from tests.trust_support import cli, settings_env

TODAY = date(2026, 11, 28)
A_YEAR_LATER = date(2027, 11, 28)
TODAYS = pytest.mark.parametrize("today", [TODAY, A_YEAR_LATER], ids=["2026", "a-year-later"])

PRESS_RELEASE_PROJECTS = {
    ("Contract Manufacturing (furniture)", "Bulgaria", "Bulgaria"),
    ("Wicker", "Rzeszow", "Poland"),
    ("Gourmet Food", "Cantabria", "Spain"),
    ("Gourmet Food", "Asturias", "Spain"),
    ("Interior Design", "Croatia", "Croatia"),
    ("Microelectronics", "Greece", "Greece"),
    ("Microelectronics", "Serbia", "Serbia"),
    ("Nature Tourism", "Northern Iceland", "Iceland"),
    ("Wedding Tourism", "Killarney", "Ireland"),
    ("Agricultural Machinery", "Romania", "Romania"),
    ("Clothing Design", "Slovakia", "Slovakia"),
    ("Technical Textile", "Galicia", "Spain"),
    ("Wedding Textile", "Izmir", "Turkey"),
}


@contextmanager
def demo_loaded(ledger: Ledger, today: date) -> Iterator[tuple[Runtime, DemoResult]]:
    """A runtime whose clock reads `today`, with the demo loaded and the projections current."""
    clock = ManualClock(datetime(today.year, today.month, today.day, 12, tzinfo=UTC))
    runtime = open_runtime(ledger.settings, clock=clock)
    try:
        result = load_demo(runtime.service, today)
        runtime.catch_up()
        yield runtime, result
    finally:
        runtime.close()


@TODAYS
def test_demo_qualifies_31_associate_trainers_from_19_regions_in_the_13_press_release_projects(
    ledger: Ledger, today: date
) -> None:
    with demo_loaded(ledger, today) as (runtime, result):
        service = runtime.service
        programme = service.programme(result.programme_id)
        assert programme.title.startswith("1st train the trainers programme")
        assert programme.title == DEMO_PROGRAMME_TITLE
        weeks = programme.weeks.values()
        assert len(weeks) == 6
        assert sum(len(week.modules) for week in weeks) == 10
        assert {week.place for week in weeks} == {"Barcelona", "Linz", "Brussels"}
        assert min(w.starts_on for w in weeks) >= date(2012, 12, 1)
        assert max(w.ends_on for w in weeks) <= date(2013, 7, 31)

        qualifications = [
            service.certificate(cid) for cid in result.certificates["valid"] if cid[:3] == "AT-"
        ]
        assert len(qualifications) == 31
        assert all(isinstance(q, Qualification) for q in qualifications)
        assert len({q.holder_id for q in qualifications}) == 31
        assert sorted(q.holder_id for q in qualifications) == sorted(result.qualified_ids)
        assert all(q.weeks_attended >= 5 for q in qualifications)
        assert all(q.awarded_on.year == 2013 and q.awarded_on.month == 7 for q in qualifications)
        assert len({service.person(q.holder_id).region for q in qualifications}) == 19

        projects = {q.project_id: service.project(q.project_id) for q in qualifications}
        assert len(projects) == 13
        assert {
            (p.cluster_initiative, p.region, p.country) for p in projects.values()
        } == PRESS_RELEASE_PROJECTS
        roster = runtime.queries.roster(result.programme_id)
        assert roster is not None
        assert len(roster["projects"]) == 13
        for project in projects.values():
            assert 1 <= len(project.members) <= 3
            assert project.signed_off_by == project.tutor_id
            assert project.tutor_id is not None
            tutor_organisation = service.person(project.tutor_id).organisation
            assert all(
                service.person(m).organisation != tutor_organisation for m in project.members
            )
        deciders = {q.decisions[0].decided_by for q in qualifications}
        assert len(deciders) == 1
        assert not deciders & {p.tutor_id for p in projects.values()}


@TODAYS
def test_every_demo_certificate_reads_today_with_the_status_it_is_listed_under(
    ledger: Ledger, today: date
) -> None:
    with demo_loaded(ledger, today) as (runtime, result):
        assert set(result.certificates) == {"valid", "expired", "suspended", "revoked"}
        for status, certificate_ids in result.certificates.items():
            assert certificate_ids, f"no {status} certificate in the demo"
            for certificate_id in certificate_ids:
                answer = runtime.queries.certificate_status(certificate_id, today)
                assert answer is not None
                assert answer["status"] == status, (certificate_id, answer)
        assert len(result.certificates["suspended"]) == 1
        assert len(result.certificates["revoked"]) == 1
        assert len(result.certificates["expired"]) == 1
        assert result.instructor_id in result.certificates["valid"]
        assert result.instructor_id.startswith("IC-")

        service = runtime.service
        licences = [
            service.licence(cid)
            for ids in result.certificates.values()
            for cid in ids
            if cid.startswith("LT-")
        ]
        valid = [lic for lic in licences if lic.status_on(today) == "valid"]
        assert len(valid) > len(licences) / 2
        renewed = [
            lic
            for lic in licences
            if any(d.type == "certificate.licence_renewed" for d in lic.decisions)
        ]
        assert len(renewed) == 1
        assert renewed[0].status_on(today) == "valid"
        suspended = service.licence(result.certificates["suspended"][0])
        running = suspended.active_suspension(today)
        assert running is not None
        assert today - timedelta(days=31) <= running.starts_on <= today < running.until
        revoked = service.licence(result.certificates["revoked"][0])
        assert revoked.revocation_reason


def test_demo_refuses_the_non_qualified_by_rule_and_erases_one_of_them(ledger: Ledger) -> None:
    with demo_loaded(ledger, TODAY) as (runtime, result):
        assert 3 <= len(result.refusals) <= 5
        assert {answer.split(":")[0] for answer in result.refusals.values()} == {"R2", "R3", "R4"}
        assert "R2: attended 4 of 6 weeks, 5 required" in result.refusals.values()
        assert not set(result.refusals) & set(result.qualified_ids)

        assert result.erased_person_id in result.refusals
        erased = runtime.service.person(result.erased_person_id)
        assert erased.erased
        assert erased.name == ERASED


def test_demo_appeal_against_the_revocation_is_rejected_by_another_committee_member(
    ledger: Ledger,
) -> None:
    with demo_loaded(ledger, TODAY) as (runtime, result):
        appeal = runtime.service.appeal(result.appeal_id)
        assert appeal.certificate_id == result.certificates["revoked"][0]
        assert appeal.decision_type == "certificate.licence_revoked"
        assert 0 <= (appeal.lodged_on - appeal.decided_on).days <= 30
        assert appeal.outcome == "rejected"
        assert appeal.panel_member is not None
        assert appeal.panel_member != appeal.decided_by


def test_demo_is_loaded_once_and_a_guarded_second_load_writes_nothing(ledger: Ledger) -> None:
    clock = ManualClock(datetime(2026, 11, 28, 12, tzinfo=UTC))
    runtime = open_runtime(ledger.settings, clock=clock)
    try:
        assert not is_loaded(runtime.service)
        load_demo(runtime.service, TODAY)
        runtime.catch_up()
        records = sum(1 for _ in runtime.log_storage.all_events())

        assert is_loaded(runtime.service)
        if not is_loaded(runtime.service):
            load_demo(runtime.service, TODAY)
        with pytest.raises(Conflict, match="already loaded"):
            load_demo(runtime.service, TODAY)
        runtime.catch_up()
        assert sum(1 for _ in runtime.log_storage.all_events()) == records
    finally:
        runtime.close()


def test_demo_refuses_a_today_before_2017_without_writing(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="2017-01-01"):
        load_demo(ledger.service, date(2016, 12, 31))
    assert not is_loaded(ledger.service)


def test_demo_if_empty_loads_a_new_ledger_whose_log_holds_only_its_key_history(
    ledger: Ledger, tmp_path: Path
) -> None:
    """`make run` relies on it: the genesis a new ledger writes does not make it non-empty."""
    env = settings_env(ledger.settings)
    first = cli("demo", "--if-empty", "--json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "loaded the demo" in json.loads(first.stdout)["message"]
    assert json.loads(first.stdout)["certificates"]["valid"]
    again = cli("demo", "--if-empty", "--json", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["message"] == "the demo history is already loaded"
