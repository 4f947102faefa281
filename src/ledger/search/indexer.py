"""The indexer: keeps the people directory up to date with the event records.

The service adds a person to the directory as it registers them (read-your-writes); the indexer
catches up with every person the service did not add, such as those of a ledger loaded by
`ledger import` or written by another process, and applies erasures recorded elsewhere. It reads
the events after the last one it has read (`person.registered` and
`person.personal_data_erased`), reads the registrations of a batch's people together through
the store (decrypted; an erased person's reads `[erased]` and is skipped), and indexes the batch
in one write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from ledger.db import Database
from ledger.domain.person import ERASED, Person, PersonalDataErased, PersonRegistered
from ledger.domain.values import NOT_AVAILABLE_HERE
from ledger.search.directory import BlindDirectory

log = logging.getLogger("ledger.search")
BULK_BATCH = 5000  # events per read when catching up with a whole ledger (an import, a reindex)
STORE_EVERY_S = 1.0  # the position is written at least this often while events come in


class PersonSource(Protocol):
    """What the indexer needs of a store (`ledger.store.application.Store`)."""

    def get_many(
        self,
        kind: str,
        aggregate_ids: Sequence[UUID],
        cls: type[Any] | None = None,
        *,
        readable_only: bool = False,
        version: int | None = None,
    ) -> dict[UUID, Any]:
        """Several aggregates read together (as at `version`), not left in the cache
        (`readable_only`: those that cannot be read are left out)."""
        ...


class PeopleIndexer:
    def __init__(
        self, db: Database, people: PersonSource, directory: BlindDirectory, batch: int = 500
    ) -> None:
        self.db = db
        self.people = people
        self.directory = directory
        self.batch = batch
        self._stored = -1  # the position last read from or written to the store
        self._read = 0  # the last event read here (ahead of the store when nothing was indexed)
        self._stored_at = float("-inf")  # time.monotonic() when it was last written
        self.unreadable = 0  # people left out so far: their records cannot be read here

    def run_once(self, batch: int | None = None) -> int:
        """Read one batch of events after the last one read; index the people registered in it
        and remove those erased. Returns the number of events read."""
        storage = self.directory.storage
        stored = storage.position()
        if stored != self._stored:  # moved elsewhere (emptied to be built again, say)
            self._stored = self._read = stored
        rows = self._events_after(max(stored, self._read), batch or self.batch)
        if not rows:
            if self._read > stored:  # caught up: the position read is stored, once
                self._store_position()
            return 0
        # Ids as the service writes them (SQLite stores them as bare hex, PostgreSQL as uuid).
        registered = [str(UUID(str(r[1]))) for r in rows if r[2] == PersonRegistered.TOPIC]
        erased = [str(UUID(str(r[1]))) for r in rows if r[2] == PersonalDataErased.TOPIC]
        found = self._read_all(registered)
        if len(found) < len(registered):
            # People whose records cannot be read (their data keys are not in this ledger)
            # cannot be indexed; the rest of the ledger still is. Said once: a ledger imported
            # from a bundle meets such people in every batch.
            missing = len(registered) - len(found)
            (log.debug if self.unreadable else log.warning)(
                "%d people not indexed: their records cannot be read (a ledger imported from a"
                " bundle indexes them once its data-key backup is restored); further such"
                " people are not reported again",
                missing,
            )
            self.unreadable += missing
        # People whose data keys this ledger does not hold (restored from a bundle) are indexed
        # once the data-key backup is restored (`ledger keys restore-data-keys` rebuilds this).
        self.directory.add_many(
            (str(p.id), p.name, p.email, p.organisation)
            for p in found
            if p.name not in (ERASED, NOT_AVAILABLE_HERE)
        )
        for person_id in erased:
            self.directory.remove(person_id)
        self._read = int(rows[-1][0])
        # The position is written with what was indexed, and otherwise once in a while and
        # when caught up (above): events that index nothing need no write of their own (read
        # again after a restart, they still index nothing).
        if registered or erased or time.monotonic() - self._stored_at >= STORE_EVERY_S:
            self._store_position()
        return len(rows)

    def _store_position(self) -> None:
        self.directory.storage.advance(self._read)
        self._stored, self._stored_at = self._read, time.monotonic()

    def catch_up(self) -> int:
        total = 0
        while (read := self.run_once(max(self.batch, BULK_BATCH))) > 0:
            total += read
        return total

    def reindex(self) -> int:
        """Build the index again from the first event (erasures stay in force)."""
        self.directory.storage.clear()
        self._stored = -1
        return self.catch_up()

    def _events_after(self, notification_id: int, limit: int) -> list[Any]:
        db = self.db
        with db.statement() as tx:
            return tx.execute(
                f"SELECT {db.nid}, originator_id, topic FROM {db.events_table}"
                f" WHERE {db.nid} > ? ORDER BY {db.nid} LIMIT ?",
                (notification_id, limit),
            ).fetchall()

    def _read_all(self, person_ids: list[str]) -> list[Person]:
        """The people who can be read, as registered, read together: names, emails and
        organisations are set by the registration alone (a person's courses follow on the
        same stream and are not read). An erased person's registration reads `[erased]` (their
        data key is gone). Not left in the aggregate cache: catching up with a large ledger
        reads every person once, and the cache would hold each up to its size limit."""
        if not person_ids:
            return []
        ids = [UUID(person_id) for person_id in person_ids]
        found = self.people.get_many("person", ids, Person, readable_only=True, version=1)
        return list(found.values())
