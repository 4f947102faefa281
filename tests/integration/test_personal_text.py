"""Free text about a person is personal data: encrypted under that person's data key wherever
it is recorded, shredded when they are erased, and never written about them afterwards."""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID

import pytest

from ledger.domain.actors import Actor, Role
from ledger.domain.certificates import certificate_stream
from ledger.domain.errors import Conflict, InvalidCommand
from ledger.domain.person import ERASED, ERASURE_REASONS
from ledger.service import LedgerService
from ledger.store.application import open_store
from tests.builders import COMMITTEE, PANEL, REGISTRAR, licensed
from tests.conftest import Ledger

DPO = Actor("staff-0123456789abcdef", Role.ADMIN)
REVOCATION = "Zorblatt revocation: falsified course records at Quillhaven"
GROUNDS = "Zorblatt grounds: the records were kept by the host agency"
REASONING = "Zorblatt reasoning: the trainer signed every record"


def stored_payloads(ledger: Ledger, stream: UUID) -> list[dict[str, object]]:
    rows = ledger.store.app.recorder.select_events(stream)
    return [json.loads(bytes(row.state))["payload"] for row in rows]


def revoked_and_appealed(ledger: Ledger) -> tuple[str, str, str]:
    """A licence revoked with a reason, appealed, and the appeal decided; (holder, licence,
    appeal id)."""
    service = ledger.service
    group, licence = licensed(service)
    service.revoke_licence(COMMITTEE, licence, REVOCATION, on=date(2015, 5, 1))
    version = service.licence(licence).decisions[-1].version
    appeal = service.lodge_appeal(REGISTRAR, licence, version, GROUNDS, on=date(2015, 5, 10)).id
    service.decide_appeal(PANEL, appeal, "rejected", REASONING, on=date(2015, 5, 20))
    return group.members[0], licence, appeal


def test_free_text_is_stored_encrypted_naming_the_person_it_concerns(ledger: Ledger) -> None:
    holder, licence, appeal = revoked_and_appealed(ledger)
    revoked = stored_payloads(ledger, certificate_stream(licence))[-1]
    lodged, decided = stored_payloads(ledger, UUID(appeal))
    for value in (revoked["reason"], lodged["grounds"], decided["reasoning"]):
        assert isinstance(value, dict)
        assert (value["enc"], value["person"]) == ("A256GCM", holder)
    for text in (REVOCATION, GROUNDS, REASONING):
        assert text not in json.dumps([revoked, lodged, decided], ensure_ascii=False)
    # Read back through the store, it is the text again.
    assert ledger.service.licence(licence).revocation_reason == REVOCATION
    assert ledger.service.appeal(appeal).grounds == GROUNDS


def test_erasing_the_person_shreds_their_free_text_on_every_stream(ledger: Ledger) -> None:
    holder, licence, appeal = revoked_and_appealed(ledger)
    ledger.service.erase_person(DPO, holder, "request")
    # The process's own cached aggregates are dropped too.
    assert ledger.service.licence(licence).revocation_reason == ERASED
    assert ledger.service.appeal(appeal).grounds == ERASED
    store = open_store(ledger.settings, verify_all=True)
    try:
        fresh = LedgerService(store, store.person_keys, ledger.clock)
        assert fresh.licence(licence).revocation_reason == ERASED
        assert fresh.appeal(appeal).grounds == ERASED
        decided = list(store.app.events.get(UUID(appeal)))[-1]  # every signature checked
        assert decided.reasoning == ERASED
    finally:
        store.close()


def test_no_free_text_about_an_erased_person_is_recorded(ledger: Ledger) -> None:
    holder, licence, _ = revoked_and_appealed(ledger)
    ledger.service.erase_person(DPO, holder, "request")
    revocation = ledger.service.licence(licence).decisions[-1].version
    with pytest.raises(Conflict, match=f"person {holder} is erased"):
        ledger.service.lodge_appeal(
            REGISTRAR, licence, revocation, "Zorblatt: more grounds", on=date(2015, 5, 15)
        )


def test_erasure_records_a_reason_code_never_free_text(ledger: Ledger) -> None:
    holder, _, _ = revoked_and_appealed(ledger)
    with pytest.raises(InvalidCommand, match="not an erasure reason code"):
        ledger.service.erase_person(DPO, holder, "Maria Example asked, maria@example.org")
    ledger.service.erase_person(DPO, holder, "objection")
    erased = stored_payloads(ledger, UUID(holder))[-1]
    assert erased["reason"] == "objection"
    assert "objection" in ERASURE_REASONS


def test_a_legacy_plain_text_reason_is_read_as_written(ledger: Ledger) -> None:
    mapper = ledger.store.app.mapper
    stream = str(certificate_stream("LT-7KQ2-M9XD-3FHW"))
    shown = mapper.reveal(stream, 3, "certificate.licence_revoked", "reason", "old reason")  # type: ignore[attr-defined]
    assert shown == "old reason"
