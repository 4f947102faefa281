"""Two contracts of the store's inner parts: records sealed for other events are refused, not
sealed again behind the caller's back; and the worker's cheap question, whether any event waits
for the projections, answers as the projections' positions say."""

from __future__ import annotations

from uuid import UUID

import pytest

from ledger.clock import ManualClock
from ledger.domain.person import NamePublicationChanged
from ledger.runtime import Runtime
from ledger.store.event_store import SEALED
from tests.builders import REGISTRAR, register
from tests.conftest import Ledger


def test_records_sealed_for_other_events_are_refused_and_nothing_is_written(
    ledger: Ledger, clock: ManualClock
) -> None:
    person_id = register(ledger.service, "Ingrid Example", "Cluster Agency")
    app = ledger.store.app
    person = app.repository.get(UUID(person_id))
    person.record(NamePublicationChanged, REGISTRAR, clock.now(), hidden=True)
    person.record(NamePublicationChanged, REGISTRAR, clock.now(), hidden=False)
    events = person.collect_events()
    sealed = app.events.seal(events)
    with pytest.raises(ValueError, match="1 sealed records given for 2 events"):
        app.events.put(events, **{SEALED: sealed[:1]})
    assert [e.originator_version for e in app.recorder.select_events(UUID(person_id))] == [1]
    app.events.put(events, **{SEALED: sealed})  # the same records, whole, are written
    assert len(list(app.recorder.select_events(UUID(person_id)))) == 3


def test_behind_says_whether_an_event_waits_for_the_projections(runtime: Runtime) -> None:
    runner = runtime.runner
    runner.catch_up()
    assert not runner.behind()
    register(runtime.service, "Ingrid Example", "Cluster Agency")
    assert runner.behind()
    runner.catch_up()
    assert not runner.behind()
