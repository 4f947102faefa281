"""Issuing credentials and status lists from the certificate register."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.credentials.issuer import Issuer
from ledger.credentials.status_entries import MESSAGES, StatusEntries, new_list, set_status
from ledger.domain.errors import DomainError
from ledger.runtime import Runtime
from projections.facts import status_on


class Credentials:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.entries = StatusEntries(runtime.db)

    @property
    def issuer(self) -> Issuer:
        return Issuer(self.runtime.settings.public_url, self.runtime.store.signing.keyring)

    def holder_name(self, person_id: str) -> str | None:
        try:
            person = self.runtime.service.person(person_id)
        except DomainError:
            return None
        return None if person.erased or person.name_hidden else person.name

    def credential(self, certificate_id: str) -> dict[str, Any] | None:
        facts = self.runtime.queries.certificate_facts(certificate_id)
        if facts is None:
            return None
        now = self.runtime.clock.now()
        unsigned = self.issuer.credential(
            facts, self.holder_name(facts["holder"]), self.entries.entry(certificate_id)
        )
        return self.issuer.sign(unsigned, self.runtime.store.signing.signer_at(now), now)

    def status_list(self, list_id: int, on: date | None = None) -> dict[str, Any]:
        """The signed status list: each member's status today (suspended or revoked bits)."""
        now = self.runtime.clock.now()
        day = on or now.date()
        bits = new_list()
        for certificate_id, index in self.entries.members(list_id):
            facts = self.runtime.queries.certificate_facts(certificate_id)
            if facts is not None:
                status = status_on(facts, day)["status"]
                set_status(bits, index, MESSAGES.get(status, 0) if status != "valid" else 0)
        unsigned = self.issuer.status_list_credential(list_id, bits, now)
        return self.issuer.sign(unsigned, self.runtime.store.signing.signer_at(now), now)
