"""What the service layer needs from outside it, as protocols, and what a command answers.

The store, the per-person key store, the people directory (search and duplicate detection) and
the read-model lookups are implemented elsewhere and passed in; the service depends only on
these contracts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID


class Repository(Protocol):
    """What the service needs of a store (implemented by `ledger.store.application.Store`)."""

    def get(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any: ...

    def get_many(
        self, kind: str, aggregate_ids: Sequence[UUID], cls: type[Any] | None = None
    ) -> dict[UUID, Any]:
        """`get` of each, read together; raises `NotFound` for the first that is missing."""
        ...

    def exists(self, aggregate_id: UUID) -> bool: ...

    def save(self, *aggregates: Any) -> list[int]:
        """Save every aggregate's new events atomically: all of them, or none (a conflict)."""
        ...

    def forget_cached(self) -> None: ...


class PersonalData(Protocol):
    def destroy(self, person: str) -> None: ...


class PeopleDirectory(Protocol):
    """The index of people by folded name, email and organisation, holding nothing personal in
    clear. Erasure removes a person from it at once."""

    def add(self, person_id: str, name: str, email: str, organisation: str) -> None: ...

    def add_many(self, people: Iterable[tuple[str, str, str, str]]) -> list[str]:
        """Index several people in one write: (person_id, name, email, organisation) each."""
        ...

    def remove(self, person_id: str) -> None: ...

    def duplicates(self, name: str, email: str, organisation: str) -> list[str]:
        """Ids of people whose folded email equals `email`'s, or whose folded name and folded
        organisation both equal these."""
        ...

    def search(self, query: str, limit: int) -> list[str]:
        """Ids of people matching `query`, best first."""
        ...


class Lookups(Protocol):
    """Questions the service asks of the read models (implemented by
    `ledger.views.queries.Queries`); the service loads the aggregates they name to decide."""

    def tutors_of(self, programme_id: str) -> Collection[str]:
        """Person ids tutoring a field project of the programme."""
        ...

    def certificates_of(self, person_id: str) -> Collection[str]:
        """Certificate ids held by the person, including those of people merged into them."""
        ...

    def programmes_of(self, person_id: str) -> Collection[str]:
        """Ids of the programmes the person is enrolled in (withdrawn enrolments included)."""
        ...


@dataclass(frozen=True)
class Receipt:
    """What a command did: the id it created or changed, and the log positions it wrote."""

    id: str
    positions: tuple[int, ...] = field(default_factory=tuple)

    @property
    def last_position(self) -> int:
        return max(self.positions, default=0)
