"""The verification answer for the ledger as it stands comes from one SQL statement, and says
what the full queries say: on any date (expiry is picked from the facts), after a suspension
with its reason, after the holder hides their name and after an erasure."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.api.routes import verify
from ledger.api.routes.verify import current_document, verify_answer
from ledger.db import Tx
from ledger.runtime import Runtime
from ledger.views.sql import trackings
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


def test_reads_asked_together_share_one_statement(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests in flight together (PostgreSQL's path) are answered from one statement, each
    with its own row; an unknown id is None and does not disturb the others."""
    group, licence = licensed(runtime.service)
    runtime.catch_up()
    ids = [licence, "LIC-1999-999999", licence, *runtime.queries.certificates_of(group.members[0])]
    reads = verify._kept(runtime).reads
    alone = {i: reads.certificate(i) for i in ids}
    assert alone["LIC-1999-999999"] is None
    assert sum(found is not None for found in alone.values()) >= 2

    statements: list[str] = []
    execute = Tx.execute

    def counted(self: Tx, text: str, params: Any = ()) -> Any:
        statements.append(text)
        return execute(self, text, params)

    monkeypatch.setattr(Tx, "execute", counted)
    batches = verify._Batches(reads)

    async def together() -> list[Any]:
        return list(await asyncio.gather(*(batches.certificate(i) for i in ids)))

    def rows_read() -> int:
        return sum("p.data" in text for text in statements)

    assert asyncio.run(together()) == [alone[i] for i in ids]
    assert rows_read() == 1, statements
    # An id not found has the active generation looked up again, once for the whole batch.
    assert len(statements) == 2, statements
    # And again later, on a fresh loop (a server started afresh): nothing left waiting.
    assert asyncio.run(together()) == [alone[i] for i in ids]
    assert (rows_read(), len(statements)) == (2, 4), statements


def test_reads_together_follow_a_rebuilt_register(runtime: Runtime) -> None:
    """After the register is rebuilt into a new generation and activated, the batched read
    that remembered the old generation finds every row in the new one."""
    group, licence = licensed(runtime.service)
    runtime.catch_up()
    ids = [licence, *runtime.queries.certificates_of(group.members[0])]
    reads = verify._kept(runtime).reads
    before = reads.certificates(ids)
    assert set(before) == set(ids)
    remembered = reads._generation
    rebuilt = runtime.runner.rebuild("certificate_register")
    assert rebuilt.generation != remembered
    assert reads.certificates([*ids, "LIC-1999-999999"]) == before
    assert reads._generation == rebuilt.generation


def test_reads_follow_the_register_when_the_generation_remembered_was_dropped(
    runtime: Runtime,
) -> None:
    """Two rebuilds (here, or in another process) drop the generation the reads remembered:
    they read the active one instead of failing on a table that is gone."""
    group, licence = licensed(runtime.service)
    runtime.catch_up()
    ids = [licence, *runtime.queries.certificates_of(group.members[0])]
    reads = verify._kept(runtime).reads
    before = reads.certificates(ids)
    one = reads.certificate(licence)
    remembered = reads._generation
    runtime.runner.rebuild("certificate_register")
    rebuilt = runtime.runner.rebuild("certificate_register")  # drops the one remembered
    with runtime.db.read() as tx:
        kept = {t.generation for t in trackings(tx, runtime.db, "certificate_register")}
    assert remembered not in kept
    assert reads._generation == remembered
    assert reads.certificate(licence) == one
    assert reads._generation == rebuilt.generation
    reads._generation = remembered  # and the statement for many ids, likewise
    assert reads.certificates(ids) == before
    assert reads._generation == rebuilt.generation
