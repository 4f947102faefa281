"""Group commit: the saves of concurrent commands share one recorder transaction.

Each save joins a queue and then takes the commit lock (ledger.store.turns; on SQLite, the
process's one turn to write). Whoever holds the lock writes every queued save that does not clash
with another of the group (the same record version, or the same Idempotency-Key) in one
transaction — all their events, and each one's key row — and hands each member its notification
ids. A save that clashes with the group waits for the next one. While one group commits, the
next gathers, so under load a commit carries many commands and alone a command commits at once:
there is no window to wait out.

If the group transaction fails on a member's data (a concurrent change committed first, a key
bound by another attempt, text that cannot be sealed) nothing of it is committed, and each
member is written again alone: it then succeeds or fails exactly as it would have without the
others, with the library's optimistic concurrency check, and one failure never fails the
others. If the database itself fails (an outage, a full disk), every member gets that error at
once rather than each waiting out its own timeout: alone, each would have failed the same way.

`after`, when set, runs under the same lock once a group has committed and before its members
are told: the background worker of an SQLite ledger sets it to bring the projections up to the
group's events there and then (ledger.worker), so a command's answer does not wait for the
worker to be woken, take its turn and say it is done. If it fails, the members are told all the
same (their events are committed) and the worker applies the events on its next pass.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, PersistenceError, Recording
from eventsourcing.sqlite import SQLiteDatastore

from ledger.request_keys import KeyBinding
from ledger.store.event_store import SEALED, ChainedEventStore
from ledger.store.turns import Done, TurnQueue, sqlite_turn

MEMBERS_DATA = (IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)
"""A group failed on what some member wrote: each is written again alone."""
DATABASE_FAILING = (PersistenceError, psycopg.Error, sqlite3.Error)
"""A group failed because the database did: every member gets the error."""
log = logging.getLogger("ledger.store")
MAX_GROUP = 256
"""Saves written in one transaction at most (the rest go in the next)."""
Outcome = tuple[list[Recording[UUID]] | None, BaseException | None]
"""A member's recordings, or the error it gets."""


@dataclass
class Member:
    """One command's save: its collected events, and its Idempotency-Key binding if any."""

    pending: ProcessingEvent[UUID]
    binding: KeyBinding | None
    done: Done = field(default_factory=Done)
    recordings: list[Recording[UUID]] | None = None
    error: BaseException | None = None

    @property
    def versions(self) -> set[tuple[UUID, int]]:
        return {(e.originator_id, int(e.originator_version)) for e in self.pending.events}

    @property
    def key(self) -> tuple[str, str] | None:
        return None if self.binding is None else (self.binding.key, self.binding.actor)

    def settle(self, recordings: list[Recording[UUID]] | None, error: BaseException | None) -> None:
        self.recordings, self.error = recordings, error
        self.done.set()


class GroupCommitter:
    """Writes concurrent saves of one application in shared transactions."""

    def __init__(
        self, app: Application[UUID], on_group: Callable[[int], None] | None = None
    ) -> None:
        self.app = app
        self.on_group = on_group  # told the size of each group written (for figures, tests)
        self.after: Callable[[], object] | None = None  # run once a group has committed
        datastore = getattr(app.recorder, "datastore", None)
        sqlite = datastore if isinstance(datastore, SQLiteDatastore) else None
        self._turns: TurnQueue[Member] = TurnQueue(
            None if sqlite is None else sqlite_turn(sqlite.pool.db_name)
        )
        # SQLite: each command seals its records before it joins a group, so the one turn to
        # write is not spent signing. PostgreSQL seals in the group, reading the data keys of
        # all its members in one round trip.
        self._seal_first = sqlite is not None

    @property
    def _commit_lock(self) -> threading.Lock | threading.RLock:
        return self._turns.lock

    @property
    def _queue(self) -> list[Member]:
        return self._turns.items

    def turn(self) -> threading.Lock | threading.RLock:
        """The lock group commits are written under: on SQLite, the process's one turn to write
        (ledger.store.turns), which the other writers of the process hold while they write."""
        return self._turns.lock

    def save(self, *aggregates: Any, binding: KeyBinding | None) -> list[Recording[UUID]]:
        """Save `aggregates` atomically, with `binding`'s key row in the same transaction."""
        pending = _collected(aggregates)
        if binding is not None:
            pending.saved_kwargs["request_key"] = binding
        if not pending.events:
            return self._alone(pending)
        events = self.app.events
        if self._seal_first and isinstance(events, ChainedEventStore):
            pending.saved_kwargs[SEALED] = events.seal(pending.events)
        member = Member(pending, binding)
        self._turns.run(member, member.done, self._commit_next)
        if member.error is not None:
            raise member.error
        assert member.recordings is not None
        return member.recordings

    # -- under the commit lock ----------------------------------------------------------------

    def _commit_next(self) -> None:
        group = self._take_group()
        if not group:
            return
        if self.on_group is not None:
            self.on_group(len(group))
        outcomes = self._written(group)
        if any(recordings is not None for recordings, _ in outcomes):
            self._run_after()
        for member, (recordings, error) in zip(group, outcomes, strict=True):
            member.settle(recordings, error)

    def _written(self, group: Sequence[Member]) -> list[Outcome]:
        """Write `group` in one transaction (or each member alone when that fails on a
        member's data): each member's recordings, or the error it gets."""
        if len(group) == 1:
            return [self._one(group[0])]
        combined = _combined(group)
        try:
            recordings = self.app._record(combined)
        except MEMBERS_DATA:  # nothing of the group committed: each member alone
            return [self._one(member) for member in group]
        except DATABASE_FAILING as exc:  # the database is away or failing: so for each member
            return [(None, exc) for _ in group]
        except Exception:  # a member's data refused (say, text about an erased person)
            return [self._one(member) for member in group]
        self._after(combined, recordings)
        outcomes: list[Outcome] = []
        start = 0
        for member in group:
            count = len(member.pending.events)
            outcomes.append((recordings[start : start + count], None))
            start += count
        return outcomes

    def _take_group(self) -> list[Member]:
        """The queued saves that clash with none before them (the others stay queued)."""
        return self._turns.take(_without_clashes)

    def _one(self, member: Member) -> Outcome:
        try:
            return self._alone(member.pending), None
        except BaseException as exc:
            return None, exc

    def _alone(self, pending: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        recordings = self.app._record(pending)
        self._after(pending, recordings)
        return recordings

    def _after(self, pending: ProcessingEvent[UUID], recordings: list[Recording[UUID]]) -> None:
        """What the library's `save` does after recording."""
        self.app._take_snapshots(pending)
        self.app._notify(recordings)

    def _run_after(self) -> None:
        after = self.after
        if after is None:
            return
        try:
            after()
        except Exception:  # the events are committed; the worker catches up on its next pass
            log.warning("work after a group commit failed; left to the worker", exc_info=True)


def _collected(aggregates: Sequence[Any]) -> ProcessingEvent[UUID]:
    """The aggregates' pending events, as the library's `collect_events` gathers them, without
    its runtime protocol checks (each costs tens of microseconds on every command): what is
    saved here is always the ledger's aggregates."""
    pending: ProcessingEvent[UUID] = ProcessingEvent()
    for aggregate in aggregates:
        if aggregate is not None:
            pending.events.extend(aggregate.collect_events())
            pending.aggregates[aggregate.id] = aggregate
    return pending


def _without_clashes(queued: list[Member]) -> list[Member]:
    """Up to MAX_GROUP of `queued`, in order, none writing a record version or binding a key
    that one before it does."""
    group: list[Member] = []
    versions: set[tuple[UUID, int]] = set()
    keys: set[tuple[str, str]] = set()
    for member in queued:
        if len(group) >= MAX_GROUP:
            break
        mine, key = member.versions, member.key
        if mine & versions or (key and key in keys):
            continue
        group.append(member)
        versions |= mine
        if key:
            keys.add(key)
    return group


def _combined(group: Sequence[Member]) -> ProcessingEvent[UUID]:
    """The group's events in one processing event, with each member's key and event count."""
    combined: ProcessingEvent[UUID] = ProcessingEvent()
    for member in group:
        combined.events.extend(member.pending.events)
        combined.aggregates.update(member.pending.aggregates)
    combined.saved_kwargs["request_keys"] = [(m.binding, len(m.pending.events)) for m in group]
    sealed = [m.pending.saved_kwargs.get(SEALED) for m in group]
    if all(s is not None for s in sealed):
        combined.saved_kwargs[SEALED] = [record for s in sealed for record in s or ()]
    return combined
