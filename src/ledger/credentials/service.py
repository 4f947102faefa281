"""Issuing credentials and status lists from the certificate register."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.credentials.holder import Holder, public_holder
from ledger.credentials.issuer import Issuer
from ledger.credentials.status_entries import (
    MESSAGE,
    PURPOSES,
    SUSPENSION,
    StatusEntries,
    message_of,
    new_list,
    set_status,
    suspended_bit,
)
from ledger.credentials.status_list import Bitstring
from ledger.runtime import Runtime
from projections.facts import status_on


class Credentials:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.entries = StatusEntries(runtime.db)

    @property
    def issuer(self) -> Issuer:
        return Issuer(self.runtime.settings.public_url, self.runtime.store.signing.keyring)

    def holder(self, person_id: str) -> Holder:
        return public_holder(self.runtime.service, person_id)

    def credential(self, certificate_id: str) -> dict[str, Any] | None:
        facts = self.runtime.queries.certificate_facts(certificate_id)
        if facts is None:
            return None
        now = self.runtime.clock.now()
        # Without the holder's name when it is not shown (the schema allows it): never with a
        # stand-in for it, which a verifier would take for the name.
        unsigned = self.issuer.credential(
            facts, self.holder(facts["holder"]).name, self.entries.entry(certificate_id)
        )
        return self.issuer.sign(unsigned, self.runtime.store.signing.signer_at(now), now)

    def status_list(
        self, list_id: int, on: date | None = None, purpose: str = SUSPENSION
    ) -> dict[str, Any]:
        """The signed status list of that purpose as of `on` (today unless told): the
        `suspension` list the credentials name (1 while suspended or revoked) unless asked for
        the `message` list (0 valid, 1 suspended, 2 revoked)."""
        return self.status_lists(list_id, on, (purpose,))[
            self.issuer.status_list_url(list_id, purpose)
        ]

    def status_lists(
        self, list_id: int, on: date | None = None, purposes: tuple[str, ...] = PURPOSES
    ) -> dict[str, dict[str, Any]]:
        """The signed lists of those purposes (both unless told), by URL, from one reading of
        the register: what a verifier saves to check status offline."""
        now = self.runtime.clock.now()
        day = on or now.date()
        bits: dict[str, Bitstring] = {purpose: new_list(purpose) for purpose in purposes}
        for certificate_id, index in self.entries.members(list_id):
            facts = self.runtime.queries.certificate_facts(certificate_id)
            if facts is None:
                continue
            status = status_on(facts, day)["status"]
            if MESSAGE in bits:
                set_status(bits[MESSAGE], index, message_of(status))
            if SUSPENSION in bits:
                bits[SUSPENSION].set(index, suspended_bit(status))
        signer = self.runtime.store.signing.signer_at(now)
        issuer = self.issuer
        return {
            issuer.status_list_url(list_id, purpose): issuer.sign(
                issuer.status_list_credential(list_id, purpose, found, now), signer, now
            )
            for purpose, found in bits.items()
        }
