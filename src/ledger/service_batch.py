"""Batches: many commands, one atomic save.

A batch runs ordinary commands against an overlay of the store: reads see what the batch has
created or changed so far, saves only collect. `commit` writes everything in one save (all or
nothing); a batch dropped without commit writes nothing, which makes a dry run. People the batch
registered enter the directory only once they are committed, and registrations within the batch
that match each other are caught like matches with people already registered.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from ledger import request_keys
from ledger.domain.errors import Conflict, NotFound
from ledger.domain.folding import fold, fold_email
from ledger.service_ports import PeopleDirectory, Receipt, Repository

S = TypeVar("S")


class Overlay:
    """A repository over another one: the batch's changes are kept until `commit`."""

    def __init__(self, base: Repository) -> None:
        self.base = base
        self._pending: dict[UUID, Any] = {}
        # What the batch has read from the store, read once: the batch is one moment, and a
        # change it makes to an aggregate someone changed meanwhile conflicts at commit.
        self._read: dict[UUID, Any] = {}
        self._exists: dict[UUID, bool] = {}

    def get(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any:
        found = self._pending.get(aggregate_id)
        if found is None:
            found = self._read.get(aggregate_id)
        if found is None:
            found = self._read[aggregate_id] = self.base.get(kind, aggregate_id, cls)
            self._exists[aggregate_id] = True
        if cls is not None and not isinstance(found, cls):
            raise NotFound(kind, str(aggregate_id))
        # A copy, as the store gives: a command refused halfway leaves the batch unchanged.
        return copy.deepcopy(found)

    def get_many(
        self, kind: str, aggregate_ids: Sequence[UUID], cls: type[Any] | None = None
    ) -> dict[UUID, Any]:
        unread = [i for i in aggregate_ids if i not in self._pending and i not in self._read]
        if unread:
            for aggregate_id, aggregate in self.base.get_many(kind, unread, cls).items():
                self._read[aggregate_id] = aggregate
                self._exists[aggregate_id] = True
        return {i: self.get(kind, i, cls) for i in aggregate_ids}

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._pending:
            return True
        known = self._exists.get(aggregate_id)
        if known is None:
            known = self._exists[aggregate_id] = self.base.exists(aggregate_id)
        return known

    def save(self, *aggregates: Any) -> list[int]:
        for aggregate in aggregates:
            self._pending[aggregate.id] = aggregate
        return []

    def not_stored(self, aggregate_id: UUID) -> None:
        """Note that `aggregate_id` is not in the store, without asking it: its id is derived
        from an aggregate this batch creates. A save of it still conflicts if that is wrong."""
        self._exists.setdefault(aggregate_id, False)

    def forget_cached(self) -> None:
        self._read.clear()
        self._exists.clear()
        self.base.forget_cached()

    def commit(self) -> list[int]:
        pending, self._pending = list(self._pending.values()), {}
        return self.base.save(*pending) if pending else []


class PendingPeople:
    """The directory as a batch sees it: people registered in the batch are held back until
    commit, but already count as possible duplicates of later registrations in it."""

    def __init__(self, base: PeopleDirectory | None) -> None:
        self.base = base
        self._added: dict[str, tuple[str, str, str]] = {}
        self._by_email: dict[str, list[str]] = {}
        self._by_name: dict[tuple[str, str], list[str]] = {}

    def add(self, person_id: str, name: str, email: str, organisation: str) -> None:
        self._added[person_id] = (name, email, organisation)
        self._by_email.setdefault(fold_email(email), []).append(person_id)
        self._by_name.setdefault((fold(name), fold(organisation)), []).append(person_id)

    def add_many(self, people: Iterable[tuple[str, str, str, str]]) -> list[str]:
        listed = list(people)
        for person_id, name, email, organisation in listed:
            self.add(person_id, name, email, organisation)
        return [person_id for person_id, *_ in listed]

    def remove(self, person_id: str) -> None:
        if self._added.pop(person_id, None) is not None:
            for index in (self._by_email, self._by_name):
                for ids in index.values():
                    if person_id in ids:
                        ids.remove(person_id)

    def duplicates(self, name: str, email: str, organisation: str) -> list[str]:
        found = [] if self.base is None else list(self.base.duplicates(name, email, organisation))
        for ident in [
            *self._by_email.get(fold_email(email), []),
            *self._by_name.get((fold(name), fold(organisation)), []),
        ]:
            if ident not in found:
                found.append(ident)
        return found

    def search(self, query: str, limit: int) -> list[str]:
        return [] if self.base is None else self.base.search(query, limit)

    def commit(self) -> None:
        added, self._added = self._added, {}
        self._by_email, self._by_name = {}, {}
        if self.base is not None and added:
            self.base.add_many((pid, n, e, o) for pid, (n, e, o) in added.items())


class Batch(Generic[S]):
    """Commands given to `service` are written together by `commit`, or not at all."""

    def __init__(self, service: S, overlay: Overlay, people: PendingPeople) -> None:
        self.service = service
        self._overlay = overlay
        self._people = people
        self._committed = False

    def not_stored(self, aggregate_id: UUID) -> None:
        """See `Overlay.not_stored`."""
        self._overlay.not_stored(aggregate_id)

    def commit(self, ident: str = "") -> Receipt:
        """Write everything in one save; then enter the registered people in the directory."""
        if self._committed:
            raise Conflict("the batch is already committed")
        self._committed = True
        request_keys.note_receipt(ident)
        positions = self._overlay.commit()
        self._people.commit()
        return Receipt(id=ident, positions=tuple(positions))
