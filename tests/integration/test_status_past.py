"""One answer about the past: offline verification from a proof bundle and `/verify?as_of=` give
the same status, since and until for every certificate and every date.

Histories are drawn at random and recorded through the service layer with the rules enforced (a
step the rules refuse is skipped, as the committee would be refused): a licence granted, courses,
suspensions with an end, early reinstatements, renewals, scope reductions, revocation, an
Instructor Certification with its renewals and revocation, and the Associate Trainer certificate
behind them. Dates are drawn before the first issue, on and around every boundary of the history,
and after every expiry. The online answer is `verify_answer`, what the `/verify` route serves;
the offline one is `verify_offline` on the bundle the `/credentials/{id}/bundle` route serves.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.api.routes.verify import verify_answer
from ledger.clock import ManualClock
from ledger.credentials.bundle import proof_bundle
from ledger.credentials.offline import verify_offline
from ledger.credentials.service import Credentials
from ledger.domain.calendar import add_months
from ledger.domain.errors import DomainError
from ledger.runtime import Runtime, open_runtime
from ledger.service import LedgerService
from tests.builders import COMMITTEE, REGISTRAR, licensed, qualified
from tests.conftest import make_settings
from tests.trust_support import bare_env, cli

NOW = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)  # after every history drawn below
MATERIAL = "ECEI-2014"

# -- recording a history ---------------------------------------------------------------------

ACTIONS = ("course", "suspend", "renew", "reduce", "certify", "renew_instructor")
OFTEN = ("suspend", "suspend", "renew", "certify", "certify", "renew_instructor")  # drawn more
STEPS = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS + OFTEN),
        st.one_of(st.integers(0, 45), st.integers(0, 300)),  # days after the step before
        st.integers(1, 200),  # a length or an offset the action reads
        st.one_of(st.none(), st.integers(0, 120)),  # a suspension's early end, days after it
    ),
    min_size=1,
    max_size=8,
)
ENDING = st.one_of(st.integers(0, 500), st.none())  # a revocation, days after the last step
Step = tuple[str, int, int, int | None]


@dataclass
class Recorded:
    qualification: str
    licence: str | None = None
    instructor: str | None = None

    def certificates(self) -> list[str]:
        return [c for c in (self.qualification, self.licence, self.instructor) if c]


class Walk:
    """Steps of a history, on dates that only move forward."""

    def __init__(self, service: LedgerService, holder: str, recorded: Recorded) -> None:
        self.service = service
        self.holder = holder
        self.recorded = recorded

    def course(self, day: date, full: bool = False) -> None:
        self.service.record_course(
            REGISTRAR, self.holder, day, "Cantabria", 12, full_programme=full
        )

    def step(self, action: str, day: date, number: int, early: int | None) -> date:
        """Try `action` on `day` (or the first day it could be tried); the day it ended on."""
        service, licence = self.service, self.recorded.licence
        assert licence is not None
        if action == "course":
            self.course(day, full=number % 2 == 0)
        elif action == "suspend":
            until = day + timedelta(days=number)
            service.suspend_licence(COMMITTEE, licence, "complaint", until, on=day)
            if early is not None and early < number:
                day += timedelta(days=early)
                service.reinstate_licence(COMMITTEE, licence, on=day)
        elif action == "renew":
            opens = service.licence(licence).valid_until - timedelta(days=90)
            day = max(day, opens + timedelta(days=number % 120))
            self.course(day)
            self.course(day)
            service.renew_licence(COMMITTEE, licence, on=day)
        elif action == "reduce":
            regions = ["Cantabria"] if number % 2 else ["Asturias"]
            service.reduce_scope(COMMITTEE, licence, regions, ["es"], "narrower", on=day)
        elif action == "certify":
            held = add_months(service.licence(licence).valid_from, 12)
            day = max(day, held + timedelta(days=number % 60))
            self.course(day, full=True)
            self.recorded.instructor = service.certify_instructor(COMMITTEE, licence, on=day).id
        elif self.recorded.instructor is not None:  # renew_instructor
            service.renew_instructor(COMMITTEE, self.recorded.instructor, on=day)
        return day


def record_history(
    service: LedgerService,
    first_course: int,
    grant_after: int,
    steps: list[Step],
    revocations: tuple[int | None, int | None],
) -> Recorded:
    """A new holder's Associate Trainer certificate, licence and what `steps` do to them, then
    maybe the licence revoked and the Instructor Certification revoked (days after)."""
    group, qualification = qualified(service)
    holder = group.members[0]
    recorded = Recorded(qualification)
    walk = Walk(service, holder, recorded)
    day = date(2013, 7, 20) + timedelta(days=first_course)
    walk.course(day)
    day += timedelta(days=grant_after)
    licence = service.grant_licence(
        COMMITTEE, qualification, ["Cantabria", "Asturias"], ["es", "en"], MATERIAL, on=day
    ).id
    recorded.licence = licence
    for action, gap, number, early in steps:
        day += timedelta(days=gap)
        with suppress(DomainError):  # refused by the rules, as it would be in the console
            day = walk.step(action, day, number, early)
    licence_after, instructor_after = revocations
    if licence_after is not None:
        day += timedelta(days=licence_after)
        service.revoke_licence(COMMITTEE, licence, "misconduct", on=day)
    if instructor_after is not None and recorded.instructor is not None:
        day += timedelta(days=instructor_after)
        service.revoke_instructor(COMMITTEE, recorded.instructor, "ended", on=day)
    return recorded


# -- the dates asked about -------------------------------------------------------------------


def boundaries(facts: dict[str, Any]) -> list[date]:
    """Every date a status may change on, with the day before and the day after."""
    found: set[str] = {facts["valid_from"], facts["issued_on"]}
    found.update(str(e[3]) for e in facts["events"])
    if facts["valid_until"]:
        found.add(facts["valid_until"])
    if facts["revoked_on"]:
        found.add(facts["revoked_on"])
    for suspension in facts["suspensions"]:
        found.update(
            v for v in (suspension["from"], suspension["until"], suspension["ended_on"]) if v
        )
    days = {date.fromisoformat(d) + timedelta(days=k) for d in found for k in (-1, 0, 1)}
    return sorted(days)


# -- comparing -------------------------------------------------------------------------------


def online(runtime: Runtime, certificate: str, day: date) -> tuple[str, str | None, str | None]:
    answer = verify_answer(runtime, certificate, day, None)
    assert answer is not None
    return answer["status"], answer["since"], answer["until"]


def offline(
    credential: dict[str, Any], bundle: dict[str, Any], day: date, runtime: Runtime
) -> tuple[str, str | None, str | None]:
    verdict = verify_offline(credential, bundle, day, trust_root=runtime.trust_root())
    lines = verdict.lines()
    for name in ("proof", "keys", "trust root", "log"):
        assert f"PASS {name}" in "\n".join(lines), lines
    status = [line for line in lines if line.startswith(("PASS status:", "FAIL status:"))]
    assert len(status) == 1, lines
    assert status[0].startswith("PASS" if verdict.status == "valid" else "FAIL"), lines
    assert verdict.ok == (verdict.status == "valid"), lines
    return verdict.status, verdict.since, verdict.until


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def past(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """One ledger per backend for every drawn history (each with people of its own)."""
    settings_ = make_settings(request.param, tmp_path_factory.mktemp("past"), request)
    runtime = open_runtime(settings_, clock=ManualClock(NOW))
    runtime.service.publish_material(
        REGISTRAR, MATERIAL, "ECEI material, 2014 edition", on=date(2013, 1, 10)
    )
    try:
        yield runtime
    finally:
        runtime.close()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    first_course=st.integers(1, 400),
    grant_after=st.integers(0, 200),
    steps=STEPS,
    revocations=st.tuples(ENDING, ENDING),
    data=st.data(),
)
def test_offline_and_online_give_one_status_for_every_date(
    past: Runtime,
    first_course: int,
    grant_after: int,
    steps: list[Step],
    revocations: tuple[int | None, int | None],
    data: st.DataObject,
) -> None:
    recorded = record_history(past.service, first_course, grant_after, steps, revocations)
    past.catch_up()
    credentials = Credentials(past)
    for certificate in recorded.certificates():
        facts = past.queries.certificate_facts(certificate)
        assert facts is not None
        bundle = proof_bundle(past, certificate)
        assert bundle is not None
        assert [h["position"] for h in bundle["history"]] == [e[1] for e in facts["events"]]
        credential = credentials.credential(certificate)
        assert credential is not None
        edges = [*boundaries(facts), NOW.date()]  # today: the day the status lists speak for
        days = data.draw(
            st.lists(st.sampled_from(edges), min_size=1, max_size=7, unique=True),
            label=f"boundary dates of {certificate}",
        )
        first = date.fromisoformat(facts["valid_from"])
        offsets = data.draw(
            st.lists(st.integers(-800, 4000), max_size=2), label=f"other days of {certificate}"
        )
        days += [first + timedelta(days=k) for k in offsets]
        for day in days:
            assert offline(credential, bundle, day, past) == online(past, certificate, day), (
                certificate,
                day,
                facts["events"],
            )


# -- the case of the issue, through the command line -----------------------------------------


def test_ledger_verify_at_a_date_before_a_later_suspension_says_valid_as_verify_does(
    runtime: Runtime, clock: ManualClock, tmp_path: Path
) -> None:
    """A licence suspended from 2026-11-18 to 2027-02-18, verified offline on 2026-11-30 (the
    status list of that day says suspended): on 2026-01-31 it was valid, as `/verify` says."""
    clock.set(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))
    _, licence = licensed(runtime.service, granted_on=date(2025, 6, 2))
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    runtime.service.suspend_licence(
        COMMITTEE, licence, "complaint", date(2027, 2, 18), on=date(2026, 11, 18)
    )
    runtime.catch_up()
    bundle = proof_bundle(runtime, licence)
    assert bundle is not None
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "proof.json").write_text(json.dumps(bundle))
    credential = Credentials(runtime).credential(licence)
    (tmp_path / "credential.json").write_text(json.dumps(credential))
    (tmp_path / "trust-root.json").write_text(runtime.trust_root().text())

    def verify(at: str) -> list[str]:
        result = cli(
            "verify", "credential.json", "--bundle", "bundle", "--at", at,
            "--trust", "trust-root.json", env=bare_env(), cwd=tmp_path,
        )  # fmt: skip
        assert "Traceback" not in result.stderr, result.stderr
        return [str(result.returncode), *result.stdout.splitlines()]

    before = verify("2026-01-31")
    assert online(runtime, licence, date(2026, 1, 31)) == ("valid", "2025-06-02", None)
    assert before[0] == "0", before
    fingerprint = runtime.trust_root().fingerprint
    assert before[-1] == (
        f"VALID: status valid on 2026-01-31 (trust root {fingerprint}), since 2025-06-02"
    ), before
    assert any(
        line.startswith("PASS status list: suspended") and "does not decide" in line
        for line in before
    ), before
    assert any(line.startswith("PASS status: valid on 2026-01-31") for line in before), before

    during = verify("2026-12-01")
    assert online(runtime, licence, date(2026, 12, 1)) == ("suspended", "2026-11-18", "2027-02-18")
    assert during[0] == "1", during
    assert during[-1] == (
        "NOT VALID: status suspended on 2026-12-01, since 2026-11-18 until 2027-02-18"
    ), during
    position = bundle["history"][1]["position"]
    assert (
        f"FAIL status: suspended from 2026-11-18 until 2027-02-18 (log position {position})"
        in "\n".join(during)
    ), during

    today = verify("2026-11-30")  # the list's own date: the list and the history agree
    assert today[0] == "1", today
    assert any(line.startswith("FAIL status list: suspended") for line in today), today
    assert today[-1].startswith("NOT VALID: status suspended on 2026-11-30, since 2026-11-18")


# -- a history that is not the certificate's ---------------------------------------------------


def test_a_bundle_whose_history_was_cut_or_changed_does_not_give_a_status(
    runtime: Runtime,
) -> None:
    service = runtime.service
    _, licence = licensed(service)
    service.suspend_licence(
        COMMITTEE, licence, "complaint", date(2015, 4, 10), on=date(2015, 1, 10)
    )
    service.reinstate_licence(COMMITTEE, licence, on=date(2015, 2, 1))
    runtime.catch_up()
    bundle = proof_bundle(runtime, licence)
    credential = Credentials(runtime).credential(licence)
    assert bundle is not None
    assert credential is not None
    day = date(2015, 3, 1)
    assert verify_offline(credential, bundle, day).status == "valid"

    dropped = copy.deepcopy(bundle)
    del dropped["history"][1]  # the suspension left out: the chain has a gap
    verdict = verify_offline(credential, dropped, date(2015, 1, 20))
    assert (verdict.ok, verdict.status) == (False, "unknown")
    assert "FAIL status: the certificate's history does not verify" in "\n".join(verdict.lines())

    changed = copy.deepcopy(bundle)
    record = json.loads(base64.b64decode(changed["history"][1]["leaf_data"]))
    record["payload"]["until"] = "2015-01-11"
    changed["history"][1]["leaf_data"] = base64.b64encode(
        json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    ).decode()
    verdict = verify_offline(credential, changed, date(2015, 1, 20))
    assert (verdict.ok, verdict.status) == (False, "unknown")
    assert "not included under the checkpoint" in "\n".join(verdict.lines())
