"""A trainer's past status reads the records of all their certificates in one query, and says
what the ledger said at the time: each certificate as the live projection showed it then, a
certificate granted later absent, one changed later as it was before the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.runtime import Runtime
from tests.builders import COMMITTEE, licensed

DAY = date(2015, 2, 1)


def statuses(answer: dict[str, Any] | None) -> dict[str, tuple[str, Any, Any]]:
    assert answer is not None
    return {
        c["certificate_id"]: (c["status"], c["reason"], c["facts"]["suspensions"])
        for c in answer["certificates"]
    }


def counted(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the event store reads made from now on."""
    calls: list[str] = []
    recorder = runtime.store.app.recorder
    for name in ("select_events", "select_streams"):
        method: Callable[..., Any] = getattr(recorder, name)

        def wrapped(*args: Any, _name: str = name, _method: Any = method, **kw: Any) -> Any:
            calls.append(_name)
            return _method(*args, **kw)

        monkeypatch.setattr(recorder, name, wrapped)
    return calls


def test_a_trainers_past_status_reads_their_certificates_records_in_one_query(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = runtime.service
    group, licence = licensed(service)
    holder = group.members[0]
    runtime.catch_up()
    facts = runtime.queries.certificate_facts(licence)
    assert facts is not None
    before_licence = facts["events"][0][1]  # the log size just before the grant
    granted = runtime.queries.position()
    then = statuses(runtime.queries.trainer_status(holder, DAY))
    assert licence in then
    assert len(then) >= 2  # the qualification and the licence

    service.suspend_licence(
        COMMITTEE, licence, "late report", date(2015, 3, 1), on=date(2015, 1, 10)
    )
    runtime.catch_up()
    now = statuses(runtime.queries.trainer_status(holder, DAY))
    assert now[licence][:2] == ("suspended", "late report")

    calls = counted(runtime, monkeypatch)
    assert statuses(runtime.queries.trainer_status(holder, DAY, known_at=granted)) == then
    assert calls == ["select_streams"]

    calls.clear()
    before = statuses(runtime.queries.trainer_status(holder, DAY, known_at=before_licence))
    assert calls == ["select_streams"]
    assert licence not in before
    assert before == {c: s for c, s in then.items() if c != licence}

    calls.clear()
    present = runtime.queries.position()
    assert statuses(runtime.queries.trainer_status(holder, DAY, known_at=present)) == now
    assert calls == ["select_streams"]

    calls.clear()
    assert statuses(runtime.queries.trainer_status(holder, DAY)) == now
    assert calls == []  # the present reads the register alone


def test_certificates_asked_together_answer_as_each_alone(runtime: Runtime) -> None:
    service = runtime.service
    group, licence = licensed(service)
    runtime.catch_up()
    known = runtime.queries.position()
    service.revoke_licence(COMMITTEE, licence, "misconduct", on=date(2014, 12, 1))
    runtime.catch_up()
    held = [*runtime.queries.certificates_of(group.members[0]), "LT-NONE-NONE-NONE"]
    queries = runtime.queries
    for known_at in (None, 0, known, queries.position()):
        together = queries.certificate_statuses(held, DAY, known_at)
        assert list(together) == held
        assert together["LT-NONE-NONE-NONE"] is None
        for certificate in held:
            assert together[certificate] == queries.certificate_status(certificate, DAY, known_at)
    at_zero = queries.certificate_statuses(held, DAY, 0)
    assert {s["status"] for c, s in at_zero.items() if s is not None} == {"unknown"}
    revoked = queries.certificate_statuses([licence], DAY)[licence]
    assert revoked is not None
    assert revoked["status"] == "revoked"
    assert revoked["reason"] == "misconduct"
    past = queries.certificate_statuses([licence], DAY, known)[licence]
    assert past is not None
    assert past["status"] == "valid"
