"""The projection runner: keeps every projection current, exactly once, and rebuilds without
downtime.

Each batch runs in one transaction: lock the projection's tracking row, read the events after
its last notification id, apply them through the projection's handlers, write the changed rows
and the new position together. Two runners never apply the same event (the tracking row lock,
and the position check on update). Requests waiting to read their own writes share one reader
(`wait_for`); when the runner is in their process, each batch it commits tells them where the
projections stand, with no read, and on PostgreSQL it notifies the other processes too
(ledger.notices), which take it in with `heard`. Polling stays beneath both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.db import Database
from ledger.notices import projected_channel
from ledger.views.sql import (
    RowCache,
    SqlView,
    StoredRow,
    Tracking,
    activate,
    advance,
    advance_all,
    create_generation,
    drop_generation,
    ensure_registry,
    events_after,
    load_rows,
    lock_tracking,
    lock_trackings,
    newest_notification,
    trackings,
    unprojected,
)
from projections import ALL
from projections.base import Dispatch, Event, Projection, digest, no_cycle_collection

log = logging.getLogger("ledger.projections")
KNOWN_POSITIONS = 10_000
"""Log positions of the latest events applied here, kept for the answers of their commands."""
BULK_BATCH = 5000
"""Events per transaction when catching up or rebuilding: far fewer commits, and the rows many
events change (a person's courses) are read and written once per batch."""
WAIT_POLL_S = 0.05
"""How often waiting requests read the projections' positions when no batch was applied in this
process (the worker runs in another)."""


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    generation: int
    position: int
    lag: int
    digest: str


class ProjectionRunner:
    def __init__(
        self, db: Database, projections: Iterable[Projection] = ALL, batch: int = 500
    ) -> None:
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.batch = batch
        self._changed = threading.Condition()
        # What `wait_for` last read: the position every projection has reached, when, and how
        # many batches this process had applied by then.
        self._reached = -1
        self._read_at = 0.0
        self._applied = 0
        self._read_applied = -1
        self._reading = False
        # The log positions of the events this process applied last, by notification id.
        self._positions: OrderedDict[int, int] = OrderedDict()
        self._channel = projected_channel(db.schema)
        # The rows of each generation as this runner committed them last (RowCache).
        self._caches: dict[str, RowCache] = {}
        ensure_registry(db)
        self.ensure()

    def ensure(self) -> None:
        """Every projection has an active generation of its current version (else build one)."""
        for name, projection in self.projections.items():
            with self.db.ddl() as tx:
                existing = trackings(tx, self.db, name)
                if not existing:
                    create_generation(tx, self.db, name, 1, projection.version)
                    activate(tx, self.db, name, 1)
                    continue
            active = self.active(name)
            if active is None or active.version != projection.version:
                self.rebuild(name)

    def active(self, name: str) -> Tracking | None:
        with self.db.read() as tx:
            return next((t for t in trackings(tx, self.db, name) if t.active), None)

    def run_once(self, name: str, generation: int | None = None) -> int:
        """Apply one batch to a projection (its active generation unless named)."""
        if generation is None:
            active = self.active(name)
            if active is None:
                return 0
            generation = active.generation
        return self.run_together([(name, generation)])

    def run_together(
        self, targets: Sequence[tuple[str, int]], *, every: bool = False, batch: int | None = None
    ) -> int:
        """Apply one batch to several projection generations, reading and decoding each record
        once for all of them. Those standing furthest back go first; the others wait until
        they have caught up to them, then move together. With `every` (the targets are every
        active projection), waiting requests are told where they all stand now, unread."""
        # As in a replay in memory, the cyclic collector is paused for a batch: it would walk
        # the rows kept for the flush again and again, and records, events and rows hold no
        # cycles.
        # Not durable (ledger.db): a batch lost to a power cut is applied again from the records.
        try:
            return self._run_batch(targets, every, batch or self.batch)
        except BaseException:
            self._caches.clear()  # handlers may have changed cached rows: read them again
            raise

    def _run_batch(self, targets: Sequence[tuple[str, int]], every: bool, batch: int) -> int:
        with no_cycle_collection(), self.db.write(durable=False) as tx:
            locked = lock_trackings(tx, self.db, targets)
            if not locked:
                return 0
            start = min(t.notification_id for t in locked)
            group = [t for t in locked if t.notification_id == start]
            rows = events_after(tx, self.db, start, batch)
            if not rows:
                return 0
            # Live batches keep their rows for the next; a bulk batch (catching up, rebuilding)
            # touches more rows than are kept, and keeping them would only cost time.
            live = batch <= self.batch
            views = [
                (
                    self.projections[t.name],
                    SqlView(tx, self.db.table(t.table), self._cache(t) if live else None),
                )
                for t in group
            ]
            first = position = group[0].position
            apply = Dispatch(views).apply
            for _, data in rows:
                apply(Event.from_record(position, data))
                position += 1
            for _, view in views:
                view.flush()
            advance_all(tx, self.db, group, position, rows[-1][0])
            others = [t.notification_id for t in locked if t.notification_id != start]
            reached = min([rows[-1][0], *others])
            if every and self.db.postgres:  # told to the waiters of other processes at commit
                tx.execute("SELECT pg_notify(?, ?)", (self._channel, str(reached)))
            del apply, views  # the batch's rows go before the collector resumes
        for tracking in group:
            if live:
                self._caches[tracking.table].at = (position, rows[-1][0])
            else:
                self._caches.pop(tracking.table, None)  # rows written that it does not hold
        with self._changed:
            self._applied += 1
            if live:  # a bulk batch's events are not the answers of commands being waited on
                for offset, (notification_id, _) in enumerate(rows):
                    self._positions[notification_id] = first + offset
                while len(self._positions) > KNOWN_POSITIONS:
                    self._positions.popitem(last=False)
            if every:
                self._reached = max(self._reached, reached)
                self._read_applied = self._applied  # nothing new for a reader to find
            self._changed.notify_all()
        return len(rows)

    def behind(self) -> bool:
        """Whether any event is past a projection's position: one statement, no write, for a
        pass that often finds nothing, as the worker's after each wake. Only a hint: a batch
        reads the positions again under its lock, where they are sure to be current."""
        with self.db.statement() as tx:
            return unprojected(tx, self.db)

    def _cache(self, tracking: Tracking) -> RowCache:
        """The rows this runner left `tracking`'s generation with, if it is where this runner
        left it; else an empty cache (another process moved it, or it is new here)."""
        cache = self._caches.get(tracking.table)
        if cache is None:
            cache = self._caches[tracking.table] = RowCache()
        if cache.at != (tracking.position, tracking.notification_id):
            cache.clear()
        return cache

    def run_all_once(self, batch: int | None = None) -> int:
        with self.db.statement() as tx:
            active = [t for t in trackings(tx, self.db) if t.active]
        targets = [(t.name, t.generation) for t in active if t.name in self.projections]
        return self.run_together(targets, every=len(targets) == len(active), batch=batch)

    def catch_up(self) -> int:
        total = 0
        while (applied := self.run_all_once(max(self.batch, BULK_BATCH))) > 0:
            total += applied
        return total

    def load_built(self, built: Mapping[str, tuple[int, Sequence[StoredRow]]], count: int) -> bool:
        """Take projections built elsewhere from the first `count` events (a replay in memory:
        the name, version and rows of each) as the active generations' content, in one
        transaction. Only when every active projection is here, of the same version, and still
        at the start, and the store holds exactly `count` events: else nothing is written and
        False is returned (the batches then apply the events, as always)."""
        with self.db.write() as tx:
            active = [t for t in trackings(tx, self.db) if t.active]
            locked = lock_trackings(tx, self.db, [(t.name, t.generation) for t in active])
            total, newest = newest_notification(tx, self.db)
            if (
                total != count
                or {t.name for t in locked} != set(built)
                or any(
                    t.position or t.notification_id or built[t.name][0] != t.version for t in locked
                )
            ):
                return False
            for tracking in locked:
                load_rows(tx, self.db, tracking, built[tracking.name][1])
                advance(tx, self.db, tracking, count, newest)
        with self._changed:
            self._applied += 1  # waiting requests read where the projections stand now
            self._changed.notify_all()
        return True

    def run(self, stop: threading.Event, poll: float = 0.05) -> None:
        """Keep every projection current until `stop` is set."""
        while not stop.is_set():
            try:
                applied = self.run_all_once()
            except Exception:
                log.exception("projection batch failed; retrying")
                applied = 0
            if applied == 0:
                stop.wait(poll)

    def wait_for(self, notification_id: int, timeout: float = 5.0) -> bool:
        """Read-your-writes: wait until every projection has applied `notification_id`.

        Waiters share one reader: whoever finds nobody reading reads the projections' positions
        for all of them, when a batch was applied in this process since the last read, else at
        most every `WAIT_POLL_S` (a worker in another process); the others wait to be told."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self._reached >= notification_id:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                due = self._applied != self._read_applied or (
                    time.monotonic() - self._read_at >= WAIT_POLL_S
                )
                if not self._reading and due:
                    self._read_positions()
                    continue
                self._changed.wait(min(remaining, WAIT_POLL_S))

    def heard(self, reached: int) -> None:
        """Another process's runner committed a batch: every projection has applied the events
        up to notification id `reached` (ledger.notices)."""
        with self._changed:
            if reached > self._reached:
                self._reached = reached
                self._changed.notify_all()

    def known_positions(self, notification_ids: Sequence[int]) -> list[int] | None:
        """The log positions of `notification_ids` if this process applied them lately (as
        ledger.views.positions counts them), else None."""
        with self._changed:
            found = [self._positions.get(n) for n in notification_ids]
        return None if None in found else [p for p in found if p is not None]

    def _read_positions(self) -> None:
        """Read where every active projection stands, for all waiters (called holding
        `_changed`, released while reading)."""
        self._reading = True
        applied = self._applied
        self._changed.release()
        try:
            with self.db.statement() as tx:
                reached = [t.notification_id for t in trackings(tx, self.db) if t.active]
        finally:
            self._changed.acquire()
            self._reading = False
            self._read_at = time.monotonic()
            self._read_applied = applied
            self._changed.notify_all()
        if reached:
            self._reached = max(self._reached, min(reached))

    def rebuild(self, name: str, progress: object = None) -> Tracking:
        """Build a new generation beside the live one; swap when it has caught up."""
        return self.rebuild_many([name], progress)[0]

    def rebuild_many(self, names: Sequence[str], progress: object = None) -> list[Tracking]:
        """Rebuild several projections in one pass over the records, each beside its live
        generation; swap each when they have caught up."""
        targets = []
        for name in names:
            projection = self.projections[name]
            with self.db.ddl() as tx:
                existing = trackings(tx, self.db, name)
                generation = max((t.generation for t in existing), default=0) + 1
                create_generation(tx, self.db, name, generation, projection.version)
            targets.append((name, generation))
        while self.run_together(targets, batch=max(self.batch, BULK_BATCH)) > 0:
            if callable(progress):
                progress(min(self.status_of(n, g, digests=False).position for n, g in targets))
        return [self._swap(name, generation) for name, generation in targets]

    def _swap(self, name: str, generation: int) -> Tracking:
        # Swap: readers move from the old generation to the caught-up new one in one commit;
        # anything committed since is applied by the next batch, as for any live projection.
        with self.db.write() as tx:
            replaced = activate(tx, self.db, name, generation)
            # The generation just replaced stays until the next rebuild, so a reader that chose
            # it a moment ago can finish; older ones go now.
            for stale in replaced:
                self._caches.pop(stale.table, None)  # no longer written here
                if not stale.active:
                    drop_generation(tx, self.db, stale)
            tracking = lock_tracking(tx, self.db, name, generation)
            assert tracking is not None
        log.info("projection rebuilt", extra={"projection": name, "generation": generation})
        return tracking

    def status_of(self, name: str, generation: int, *, digests: bool = True) -> ProjectionStatus:
        with self.db.read() as tx:
            tracking = lock_tracking(tx, self.db, name, generation, lock=False)
            assert tracking is not None
            total, _ = newest_notification(tx, self.db)
            view = SqlView(tx, self.db.table(tracking.table))
            return ProjectionStatus(
                name,
                tracking.version,
                generation,
                tracking.position,
                max(total - tracking.position, 0),
                digest(view) if digests else "",
            )

    def status(self) -> list[ProjectionStatus]:
        found = []
        for name in self.projections:
            active = self.active(name)
            if active is not None:
                found.append(self.status_of(name, active.generation))
        return found

    def digests(self) -> dict[str, str]:
        return {s.name: s.digest for s in self.status()}
