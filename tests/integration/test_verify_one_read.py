"""The verification answer for the ledger as it stands comes from one SQL statement, and says
what the full queries say: on any date (expiry is picked from the facts), after a suspension
with its reason, after the holder hides their name and after an erasure."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ledger.api.routes import verify
from ledger.api.routes.verify import current_document, verify_answer
from ledger.db import Tx
from ledger.runtime import Runtime
from tests.builders import COMMITTEE, REGISTRAR, licensed

ADMIN_REASON = "request"


def both(runtime: Runtime, certificate: str, day: date) -> dict[str, Any]:
    """The one-read answer, checked against the answer of the full queries."""
    fast = verify_answer(runtime, certificate, day, None)
    slow = verify._answer_from_queries(runtime, certificate, day, None)
    assert fast is not None
    assert slow is not None
    fast_log, slow_log = fast.pop("log"), slow.pop("log")
    assert fast == slow
    assert fast_log is not None
    assert slow_log is not None
    assert fast_log["position"] == slow_log["position"]
    assert fast_log["leaf_hash"] == slow_log["leaf_hash"]
    assert fast_log["tree_size"] <= slow_log["tree_size"]
    return fast


def test_one_read_says_what_the_full_queries_say(runtime: Runtime) -> None:
    service = runtime.service
    group, licence = licensed(service)
    holder = group.members[0]
    runtime.catch_up()
    facts = runtime.queries.certificate_facts(licence)
    assert facts is not None
    until = date.fromisoformat(facts["valid_until"])

    assert both(runtime, licence, until)["status"] == "valid"
    expired = both(runtime, licence, until + timedelta(days=1))
    assert (expired["status"], expired["since"]) == ("expired", (until + timedelta(1)).isoformat())
    assert both(runtime, licence, date(2014, 3, 3))["holder_name_state"] == "shown"

    service.suspend_licence(
        COMMITTEE, licence, "late paperwork", date(2014, 9, 1), on=date(2014, 5, 5)
    )
    runtime.catch_up()
    suspended = both(runtime, licence, date(2014, 6, 1))
    assert (suspended["status"], suspended["reason"]) == ("suspended", "late paperwork")

    service.set_name_hidden(REGISTRAR, holder, True)
    runtime.catch_up()
    hidden = both(runtime, licence, date(2014, 6, 1))
    assert (hidden["holder"], hidden["holder_name_state"]) == (None, "withheld")

    service.set_name_hidden(REGISTRAR, holder, False)
    runtime.catch_up()
    assert both(runtime, licence, date(2014, 6, 1))["holder_name_state"] == "shown"

    service.erase_person(COMMITTEE, holder, ADMIN_REASON)
    runtime.catch_up()
    erased = both(runtime, licence, date(2014, 6, 1))
    assert (erased["holder"], erased["holder_name_state"]) == (None, "withheld")
    assert erased["reason"] == "[erased]"


def test_a_warm_answer_is_one_statement_in_one_transaction(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, licence = licensed(runtime.service)
    runtime.catch_up()
    assert current_document(runtime, licence) is not None

    statements: list[str] = []
    execute = Tx.execute

    def counted(self: Tx, text: str, params: Any = ()) -> Any:
        statements.append(text)
        return execute(self, text, params)

    def no_person(person_id: str) -> Any:
        raise AssertionError("the holder was loaded again")

    monkeypatch.setattr(Tx, "execute", counted)
    monkeypatch.setattr(runtime.service, "person", no_person)
    for day in (date(2014, 3, 3), date(2016, 1, 1), date(2030, 1, 1)):
        assert verify_answer(runtime, licence, day, None) is not None
    assert len(statements) == 3, statements
    assert verify_answer(runtime, "LIC-1999-999999", date(2014, 3, 3), None) is None
