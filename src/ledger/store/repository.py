"""The library's repository, with a cached aggregate copied under its fast-forward lock.

With the aggregate cache and fast-forwarding on, the library brings a cached aggregate up to date
in place (under a lock per aggregate) and then copies it for the command, outside that lock: a
command copying the catalogue while another thread fast-forwarded it failed with "dictionary
changed size during iteration" (64 writers on the one catalogue stream). Here the copy is taken
under the same lock, so it never sees an aggregate half brought up to date.

The locks are a fixed set, each aggregate taking the one its id falls on, rather than the
library's lock per aggregate: that one is looked up, counted in and out of use and parked in a
cache of its own under a further lock, twice per command. Neither holder of a lock takes
another while holding it, so sharing one between aggregates only rarely makes one wait.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository, project_aggregate

STRIPES = 64
"""Fast-forward locks, shared by the aggregates whose ids fall on the same one."""


class LockedCopyRepository(Repository[UUID]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stripes = [threading.Lock() for _ in range(STRIPES)]

    def _use_fastforward_lock(self, aggregate_id: UUID) -> Any:
        return self._stripes[hash(aggregate_id) % STRIPES]

    def _disuse_fastforward_lock(self, aggregate_id: UUID) -> None:
        pass  # the lock stays where it is

    def get(  # type: ignore[override]
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        copy = (
            deepcopy_from_cache
            and self.deepcopy_from_cache
            and self.cache is not None
            and version is None
        )
        aggregate = super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache and not copy,
        )
        if not copy:
            return aggregate
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                return deepcopy(aggregate)
        finally:
            self._disuse_fastforward_lock(aggregate_id)
