"""Base classes: every event carries its actor, role and (where it differs) its effective date.

Event and aggregate classes have explicit, stable type names (`TOPIC`), registered here, so
stored records never depend on module paths. Event fields hold only str, int, bool, None, date,
tuples of str and dicts of str to int, which the store encodes as plain JSON.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from ledger.domain.actors import Actor

EVENT_TYPES: dict[str, type[Aggregate.Event]] = {}
AGGREGATE_TYPES: dict[str, type[Aggregate]] = {}
LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://clustercoaching.eu/ledger")

E = TypeVar("E", bound=type[Aggregate.Event])
A = TypeVar("A", bound=type[Aggregate])


def event_type(cls: E) -> E:
    """Register an event class under its explicit, stable `TOPIC`."""
    name = cls.TOPIC  # type: ignore[attr-defined]
    if name in EVENT_TYPES and EVENT_TYPES[name] is not cls:
        raise TypeError(f"event type {name} is registered twice")
    EVENT_TYPES[name] = cls
    register_topic(name, cls)
    return cls


CREATED_BY: dict[type[Aggregate.Event], type[Aggregate]] = {}


def aggregate_type(*created: type[Aggregate.Created]) -> Any:
    """Register an aggregate class and the event types that create it.

    Records name the aggregate only through its creating event's type, so the library's
    `originator_topic` (a module path) never enters a record: the store restores it on read.
    """

    def register(cls: A) -> A:
        AGGREGATE_TYPES[cls.TYPE_NAME] = cls  # type: ignore[attr-defined]
        for event_class in created:
            CREATED_BY[event_class] = cls
        return cls

    return register


def derived_id(*parts: str) -> UUID:
    """A stable aggregate id derived from domain keys (so a key can exist only once)."""
    return uuid5(LEDGER_NAMESPACE, "/".join(parts))


class LedgerEvent(Aggregate.Event):
    TOPIC: ClassVar[str]
    actor: str
    role: str
    effective_on: date | None


class LedgerCreated(Aggregate.Created):
    TOPIC: ClassVar[str]
    actor: str
    role: str
    effective_on: date | None


# Values an aggregate's copy can share as they are (`copy.deepcopy` rebuilds a UUID, date or
# datetime through its reduce protocol, a few microseconds each, on every command).
_IMMUTABLE: frozenset[type] = frozenset(
    {str, int, bool, float, bytes, type(None), UUID, date, datetime}
)


class LedgerAggregate(Aggregate):
    """Common helpers: events are made with the actor, the recorded-at time and valid time."""

    TYPE_NAME: ClassVar[str]
    # Lists whose items are frozen `Value`s: a copy gets a new list sharing the items.
    SHARED_ITEM_LISTS: ClassVar[tuple[str, ...]] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """The repository copies a cached aggregate for each command: a long stream's lists of
        frozen values are copied as lists (their items shared), everything else deeply."""
        cls = type(self)
        clone = cls.__new__(cls)
        memo[id(self)] = clone
        shared = self.SHARED_ITEM_LISTS
        state = clone.__dict__
        for name, value in self.__dict__.items():
            if type(value) in _IMMUTABLE:
                state[name] = value
            elif name in shared:
                state[name] = list(value)
            else:
                state[name] = copy.deepcopy(value, memo)
        return clone

    def record(
        self,
        event_class: type[LedgerEvent],
        actor: Actor,
        at: datetime,
        on: date | None = None,
        **fields: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            actor=actor.id,
            role=str(actor.role),
            effective_on=_valid_time(at, on),
            timestamp=at,
            **fields,
        )

    @classmethod
    def start(
        cls: type[T],
        event_class: type[LedgerCreated],
        ident: UUID,
        actor: Actor,
        at: datetime,
        on: date | None = None,
        **fields: Any,
    ) -> T:
        return cls._create(
            event_class,
            id=ident,
            actor=actor.id,
            role=str(actor.role),
            effective_on=_valid_time(at, on),
            timestamp=at,
            **fields,
        )


T = TypeVar("T", bound=LedgerAggregate)


def _valid_time(at: datetime, on: date | None) -> date | None:
    """Valid time is written only where it differs from the recording date."""
    if on is None or on == at.date():
        return None
    return on


def effective(event: LedgerEvent | LedgerCreated) -> date:
    """The date an event took effect: its valid time, else the date it was recorded."""
    return event.effective_on or event.timestamp.date()
