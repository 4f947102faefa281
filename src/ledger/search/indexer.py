"""The indexer: keeps the people directory up to date with the event records.

The service adds a person to the directory as it registers them (read-your-writes); the indexer
catches up with every person the service did not add, such as those of a ledger loaded by
`ledger import` or written by another process, and applies erasures recorded elsewhere. It reads
the events after the last one it has read (`person.registered` and
`person.personal_data_erased`), reads each registered person through the store (decrypted,
current, so an erased person is skipped), and indexes a batch in one write.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from uuid import UUID

from ledger.db import Database
from ledger.domain.errors import NotFound
from ledger.domain.person import Person, PersonalDataErased, PersonRegistered
from ledger.domain.values import NOT_AVAILABLE_HERE
from ledger.integrity.errors import IntegrityError
from ledger.search.directory import BlindDirectory

log = logging.getLogger("ledger.search")


class PersonSource(Protocol):
    """What the indexer needs of a store (`ledger.store.application.Store`)."""

    def read(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any:
        """The aggregate, read without filling the store's aggregate cache."""
        ...


class PeopleIndexer:
    def __init__(
        self, db: Database, people: PersonSource, directory: BlindDirectory, batch: int = 500
    ) -> None:
        self.db = db
        self.people = people
        self.directory = directory
        self.batch = batch

    def run_once(self) -> int:
        """Read one batch of events after the last one read; index the people registered in it
        and remove those erased. Returns the number of events read."""
        storage = self.directory.storage
        rows = self._events_after(storage.position())
        if not rows:
            return 0
        # Ids as the service writes them (SQLite stores them as bare hex, PostgreSQL as uuid).
        registered = [str(UUID(str(r[1]))) for r in rows if r[2] == PersonRegistered.TOPIC]
        erased = [str(UUID(str(r[1]))) for r in rows if r[2] == PersonalDataErased.TOPIC]
        found = [person for p in registered if (person := self._read(p)) is not None]
        if len(found) < len(registered):
            # People whose records cannot be read (their data keys are not in this ledger)
            # cannot be indexed; the rest of the ledger still is.
            log.warning(
                "%d people not indexed: their records cannot be read", len(registered) - len(found)
            )
        # People whose data keys this ledger does not hold (restored from a bundle) are indexed
        # once the data-key backup is restored (`ledger keys restore-data-keys` rebuilds this).
        self.directory.add_many(
            (str(p.id), p.name, p.email, p.organisation)
            for p in found
            if not p.erased and p.name != NOT_AVAILABLE_HERE
        )
        for person_id in erased:
            self.directory.remove(person_id)
        storage.advance(int(rows[-1][0]))
        return len(rows)

    def catch_up(self) -> int:
        total = 0
        while (read := self.run_once()) > 0:
            total += read
        return total

    def reindex(self) -> int:
        """Build the index again from the first event (erasures stay in force)."""
        self.directory.storage.clear()
        return self.catch_up()

    def _events_after(self, notification_id: int) -> list[Any]:
        db = self.db
        with db.read() as tx:
            return tx.execute(
                f"SELECT {db.nid}, originator_id, topic FROM {db.events_table}"
                f" WHERE {db.nid} > ? ORDER BY {db.nid} LIMIT ?",
                (notification_id, self.batch),
            ).fetchall()

    def _read(self, person_id: str) -> Person | None:
        try:
            # Not left in the aggregate cache: catching up with a large ledger reads every person
            # once, and the cache would hold each (whole streams decoded) up to its size limit.
            person: Person = self.people.read("person", UUID(person_id), Person)
        except (NotFound, IntegrityError):
            return None
        return person
