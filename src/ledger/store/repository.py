"""The library's repository, with a cached aggregate copied under its fast-forward lock.

With the aggregate cache and fast-forwarding on, the library brings a cached aggregate up to date
in place (under a lock per aggregate) and then copies it for the command, outside that lock: a
command copying the catalogue while another thread fast-forwarded it failed with "dictionary
changed size during iteration" (64 writers on the one catalogue stream). Here the copy is taken
under the same lock, so it never sees an aggregate half brought up to date.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository, project_aggregate


class LockedCopyRepository(Repository[UUID]):
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
