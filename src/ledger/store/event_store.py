"""The chained event store: writes each record with its predecessor's digest, and verifies
streams on read.

On read every record's form, key and link to its predecessor are checked; the signature of the
newest record read is verified, which authenticates the whole chain behind it (set
`verify_all=True` to check every signature). Signatures already verified in this process are
remembered by record digest, which covers the exact bytes, so a changed record is checked anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Notification,
    Recording,
    StoredEvent,
)

from ledger.integrity.errors import RecordIntegrityError
from ledger.integrity.record import SignedRecord, check_link, verify_signature
from ledger.store.mapper import SigningMapper, stream_name


class _Heads:
    """The digest of the newest record known per stream (a cache: the database is the truth)."""

    def __init__(self, size: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._size = size

    def get(self, stream: str, version: int) -> str | None:
        with self._lock:
            item = self._items.get(stream)
        return item[1] if item is not None and item[0] == version else None

    def put(self, stream: str, version: int, digest: str) -> None:
        with self._lock:
            self._items[stream] = (version, digest)
            self._items.move_to_end(stream)
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def forget(self, stream: str) -> None:
        with self._lock:
            self._items.pop(stream, None)


class _Verified:
    """Digests of records whose signatures verified in this process."""

    def __init__(self, size: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def __contains__(self, digest: str) -> bool:
        with self._lock:
            return digest in self._items

    def add(self, digest: str) -> None:
        with self._lock:
            self._items[digest] = None
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SEALED = "sealed"
"""The keyword under which `put` is given its events' records already sealed (`seal`)."""


class ChainedEventStore(EventStore[UUID]):
    def __init__(
        self, mapper: SigningMapper, recorder: AggregateRecorder, *, verify_all: bool = False
    ) -> None:
        super().__init__(mapper, recorder)
        self.signing_mapper = mapper
        self.verify_all = verify_all
        self._heads = _Heads()
        self._verified = _Verified()
        self._generation = mapper.signing.generation

    def seal(self, domain_events: Sequence[Any]) -> list[SignedRecord]:
        """The records of `domain_events`, each chained to the one before it in its stream,
        its personal fields encrypted, and signed. `put` seals what it is not given sealed;
        a group commit (ledger.store.group_commit) has each command seal its own before it
        joins the group, so the group's turn to write is not spent signing. A record sealed
        against a head that another write replaced meanwhile is refused at insert, as the
        record version it claims is taken."""
        sealed: list[SignedRecord] = []
        batch_heads: dict[str, tuple[int, str]] = {}
        keys = self.signing_mapper.data_keys(domain_events)
        for event in domain_events:
            stream = stream_name(event.originator_id)
            version = int(event.originator_version)
            prev = self._previous_digest(stream, version, batch_heads)
            signed = self.signing_mapper.seal_event(event, prev, keys)
            batch_heads[stream] = (version, signed.digest)
            sealed.append(signed)
        return sealed

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        given = kwargs.pop(SEALED, None)
        if given is not None and len(given) != len(domain_events):
            raise ValueError(
                f"{len(given)} sealed records given for {len(domain_events)} events: "
                "each event is sealed once, before it is put"
            )
        sealed: list[SignedRecord] = self.seal(domain_events) if given is None else given
        stored: list[StoredEvent] = []
        batch_heads: dict[str, tuple[int, str]] = {}
        for event, signed in zip(domain_events, sealed, strict=True):
            version = int(event.originator_version)
            batch_heads[signed.record.stream] = (version, signed.digest)
            stored.append(
                StoredEvent(
                    originator_id=event.originator_id,
                    originator_version=version,
                    topic=signed.record.type,
                    state=signed.data,
                )
            )
        try:
            notification_ids = self.recorder.insert_events(stored, **kwargs)
        except Exception:
            for stream in batch_heads:
                self._heads.forget(stream)
            raise
        for stream, (version, digest) in batch_heads.items():
            self._heads.put(stream, version, digest)
        for signed in sealed:
            self._verified.add(signed.digest)
        recordings: list[Recording[UUID]] = []
        for event, s, n_id in zip(domain_events, stored, notification_ids or (), strict=False):
            recordings.append(
                Recording(
                    event,
                    Notification(
                        originator_id=s.originator_id,
                        originator_version=s.originator_version,
                        topic=s.topic,
                        state=s.state,
                        id=n_id,
                    ),
                )
            )
        return recordings

    def _previous_digest(
        self, stream: str, version: int, batch: dict[str, tuple[int, str]]
    ) -> str | None:
        if version == 1:
            return None
        in_batch = batch.get(stream)
        if in_batch is not None and in_batch[0] == version - 1:
            return in_batch[1]
        cached = self._heads.get(stream, version - 1)
        if cached is not None:
            return cached
        rows = list(self.recorder.select_events(UUID(stream), lte=version - 1, desc=True, limit=1))
        if not rows or rows[0].originator_version != version - 1:
            raise RecordIntegrityError(stream, version - 1, "previous record is missing")
        return self.signing_mapper.open_stored(rows[0]).digest

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        rows = self.recorder.select_events(
            originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        if desc:
            # Newest first: nothing to chain against in this direction; check each signature.
            for row in rows:
                signed = self.signing_mapper.open_stored(row)
                self._verify(signed)
                yield self.signing_mapper.event_from_record(signed)
            return
        yield from self._chained(rows, stream_name(originator_id), gt)

    def get_streams(
        self,
        originator_ids: Sequence[UUID],
        *,
        readable_only: bool = False,
        lte: int | None = None,
    ) -> dict[UUID, list[Any]]:
        """The domain events of several streams (whole, or up to version `lte`), checked as
        `get` checks one, from one read of the records and one of the data keys of the streams
        that are people (others are read as needed). Streams with no records are left out;
        with `readable_only`, so are those whose records do not pass the checks, else the
        first such raises."""
        select = getattr(self.recorder, "select_streams", None)
        if select is None:
            raise TypeError("this recorder cannot read several streams at once")
        rows: list[StoredEvent] = select(list(dict.fromkeys(originator_ids)), lte)
        by_stream: dict[UUID, list[StoredEvent]] = {}
        for row in rows:
            by_stream.setdefault(UUID(str(row.originator_id)), []).append(row)
        held = self.signing_mapper.person_keys.held_keys([stream_name(i) for i in by_stream])
        found: dict[UUID, list[Any]] = {}
        for originator_id, stream in by_stream.items():
            try:
                found[originator_id] = list(
                    self._chained(stream, stream_name(originator_id), None, held)
                )
            except RecordIntegrityError:
                if not readable_only:
                    raise
        return found

    def _chained(
        self,
        rows: Sequence[StoredEvent],
        stream: str,
        gt: int | None,
        held: Mapping[str, bytes | None] | None = None,
    ) -> Iterator[Any]:
        previous: SignedRecord | None = None
        known = None if gt is None else self._heads.get(stream, gt)
        expected = (gt or 0) + 1
        for row in rows:
            signed = self.signing_mapper.open_stored(row)
            record = signed.record
            if record.version != expected:
                raise RecordIntegrityError(
                    record.stream, expected, f"record is missing (next stored is {record.version})"
                )
            if previous is not None:
                check_link(signed, previous.digest)
            elif record.version == 1:
                check_link(signed, None)
            elif known is not None:
                check_link(signed, known)  # continues a stream verified earlier in this process
            else:
                # The chain starts before this read: its first record is checked on its own.
                self._verify(signed)
            if self.verify_all:
                self._verify(signed)
            previous = signed
            expected += 1
            yield self.signing_mapper.event_from_record(signed, held)
        if previous is not None:
            self._verify(previous)
            self._heads.put(previous.record.stream, previous.record.version, previous.digest)

    def _verify(self, signed: SignedRecord) -> None:
        signing = self.signing_mapper.signing
        if signing.generation != self._generation:
            self._verified.clear()  # the key ring changed: compromise marks may apply now
            self._generation = signing.generation
        digest = signed.digest
        if digest in self._verified:
            return
        verify_signature(signed, signing.keyring)
        self._verified.add(digest)

    def forget_verified(self) -> None:
        """Drop remembered verifications (after the key ring changes)."""
        self._verified.clear()
