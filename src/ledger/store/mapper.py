"""The signing mapper: domain event <-> signed canonical record, one record at a time.

Independent of the backend. Writing needs the digest of the stream's previous record, which
the chained event store supplies; reading checks the record's form, origin, type and key, and
turns the payload back into the event (decrypting personal fields, or marking them erased).
Chain links and signatures are checked by the chained event store, which sees whole streams.

A personal field of a person's stream is encrypted under that person's data key. A personal
field of another stream (a revocation reason, appeal grounds) is free text about a person: the
event carries it as a `PersonalText` naming that person, and the encrypted object names them in
a `person` member, so that erasing them shreds it. Records written before free text was
encrypted hold it as a plain string, which is read as it is (docs/ledger-format.md section 6).

A ledger restored without its data keys reads personal fields as `[not available here]`: the
records verify (signatures are over the ciphertext), only their personal data cannot be read.
A data key is made only when a person is registered, never for a person already recorded, so
that a restored person's later records stay readable once the data-key backup is restored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanInitAggregate
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from ledger.domain.base import CREATED_BY
from ledger.domain.person import ERASED, PersonRegistered
from ledger.domain.registry import EVENT_TYPES
from ledger.domain.values import NOT_AVAILABLE_HERE, PersonalText
from ledger.integrity.errors import DecryptionError, KeyringError, RecordIntegrityError
from ledger.integrity.personal import associated_data, decrypt_field, encrypt_field, is_encrypted
from ledger.integrity.record import Record, SignedRecord, open_record, seal
from ledger.store.codec import CodecError, decode_payload, encode_payload
from ledger.store.person_keys import PersonalDataUnavailable, PersonKeys
from ledger.store.signing import Signing


class _Unused(Transcoder):
    """The mapper writes canonical JSON itself; the library's transcoder is never called."""

    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError


def stream_name(originator_id: UUID | str) -> str:
    return str(originator_id if isinstance(originator_id, UUID) else UUID(originator_id))


class SigningMapper(Mapper[UUID]):
    def __init__(self, signing: Signing, person_keys: PersonKeys) -> None:
        super().__init__(transcoder=_Unused())
        self.signing = signing
        self.person_keys = person_keys

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        raise NotImplementedError("records are chained: write through ChainedEventStore.put")

    def data_keys(self, events: Sequence[Any]) -> dict[str, bytes | None]:
        """The data keys `seal_event` needs for `events`, read (and for people registered among
        them, made) all at once instead of once per personal field."""
        wanted: dict[str, bool] = {}
        for event in events:
            cls = type(event)
            type_name = getattr(cls, "TOPIC", "")
            registers = type_name == PersonRegistered.TOPIC
            for name in getattr(cls, "PERSONAL", ()):
                if _of_person_stream(type_name):
                    person = stream_name(event.originator_id)
                else:
                    value = getattr(event, name)
                    if not isinstance(value, PersonalText):
                        continue  # refused by `seal_event`
                    person = value.person
                wanted[person] = wanted.get(person, False) or registers
        return self.person_keys.keys_for(wanted) if wanted else {}

    def seal_event(
        self, event: Any, prev: str | None, keys: Mapping[str, bytes | None]
    ) -> SignedRecord:
        """Encode, encrypt personal fields, and sign `event` as the successor of `prev`; `keys`
        are the data keys `data_keys` read for the events saved with it."""
        cls = type(event)
        type_name = getattr(cls, "TOPIC", None)
        if type_name is None or EVENT_TYPES.get(type_name) is not cls:
            raise TypeError(f"{cls.__qualname__} is not a registered ledger event type")
        stream = stream_name(event.originator_id)
        version = int(event.originator_version)
        payload = encode_payload(event)
        for name in getattr(cls, "PERSONAL", ()):
            payload[name] = self._encrypt(event, stream, version, type_name, name, keys)
        signer = self.signing.signer_at(event.timestamp)
        record = Record(
            origin=self.signing.origin,
            stream=stream,
            version=version,
            type=type_name,
            recorded_at=event.timestamp,
            payload=payload,
            prev=prev,
            kid=signer.kid,
        )
        return seal(record, signer)

    def _encrypt(
        self,
        event: Any,
        stream: str,
        version: int,
        type_name: str,
        name: str,
        keys: Mapping[str, bytes | None],
    ) -> dict[str, str]:
        value = getattr(event, name)
        if _of_person_stream(type_name):
            person, named = stream, False
        elif isinstance(value, PersonalText):
            person, named = value.person, True
        else:
            raise TypeError(f"{type_name}.{name} is free text about a person: give a PersonalText")
        if person not in keys:
            raise KeyError(f"data key of person {person} was not read before sealing")
        key = keys[person]
        if key is None:
            raise DecryptionError(f"person {person} is erased: no personal data may be added")
        aad = associated_data(self.signing.origin, stream, version, type_name, name)
        sealed = encrypt_field(key, str(value), aad)
        if named:
            sealed["person"] = person
        return sealed

    def reveal(self, stream: str, version: int, type_name: str, name: str, value: Any) -> str:
        """The plain text of personal field `name` of the record at (`stream`, `version`), as a
        projection copied it from the payload: decrypted, `[erased]` once its person is erased,
        `[not available here]` when this ledger holds no key for them, or a legacy plain string
        as it stands."""
        record = Record(
            origin=self.signing.origin,
            stream=stream,
            version=version,
            type=type_name,
            recorded_at=_EPOCH,
            payload={name: value},
            prev=None,
            kid="",
        )
        return self._decrypt(record, (name,), {})[name]

    def open_stored(self, stored: StoredEvent) -> SignedRecord:
        """Parse and check a stored record's form, origin, type and key window (no signature)."""
        stream = stream_name(stored.originator_id)
        version = int(stored.originator_version)
        signed = open_record(bytes(stored.state), stream, version, strict=False)
        record = signed.record
        if record.origin != self.signing.origin:
            raise RecordIntegrityError(
                stream, version, f"record is of origin {record.origin!r}, not this ledger's"
            )
        if record.type != stored.topic:
            raise RecordIntegrityError(
                stream, version, f"record is a {record.type}, stored as {stored.topic}"
            )
        if record.type not in EVENT_TYPES:
            raise RecordIntegrityError(stream, version, f"unknown event type {record.type!r}")
        try:
            key = self.signing.keyring.get(record.kid)
            key.check_signing_time(record.recorded_at)
        except KeyringError as exc:
            raise RecordIntegrityError(stream, version, str(exc)) from exc
        return signed

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_from_record(self.open_stored(stored_event))

    def event_from_record(
        self, signed: SignedRecord, held: Mapping[str, bytes | None] | None = None
    ) -> Any:
        """The domain event of a checked record, its personal fields decrypted (`held`: data
        keys read already, by person; others are read as needed)."""
        record = signed.record
        cls = EVENT_TYPES[record.type]
        payload = dict(record.payload)
        personal = getattr(cls, "PERSONAL", ())
        if personal:
            payload.update(self._decrypt(record, personal, held or {}))
        try:
            state = decode_payload(cls, payload)
        except CodecError as exc:
            raise RecordIntegrityError(record.stream, record.version, str(exc)) from exc
        state["originator_id"] = UUID(record.stream)
        state["originator_version"] = record.version
        state["timestamp"] = record.recorded_at
        if issubclass(cls, CanInitAggregate):
            state["originator_topic"] = get_topic(CREATED_BY[cls])
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _decrypt(
        self, record: Record, fields: tuple[str, ...], held: Mapping[str, bytes | None]
    ) -> dict[str, str]:
        own = _of_person_stream(record.type)
        plain = {}
        keys = dict(held)  # a record's fields are mostly of one person
        for name in fields:
            value = record.payload.get(name)
            if isinstance(value, str) and not own:
                plain[name] = value  # a legacy record, written before free text was encrypted
                continue
            if not isinstance(value, dict) or not is_encrypted(value):
                raise RecordIntegrityError(
                    record.stream, record.version, f"personal field {name} is not encrypted"
                )
            person = record.stream if own else value.get("person")
            if not isinstance(person, str) or (own and "person" in value):
                raise RecordIntegrityError(
                    record.stream, record.version, f"personal field {name} names no person"
                )
            try:
                key = keys[person] if person in keys else self.person_keys.key_for(person)
            except PersonalDataUnavailable:
                plain[name] = NOT_AVAILABLE_HERE  # restored without data keys: not tampering
                continue
            except DecryptionError as exc:
                raise RecordIntegrityError(record.stream, record.version, str(exc)) from exc
            keys[person] = key
            if key is None:
                plain[name] = ERASED
                continue
            aad = associated_data(record.origin, record.stream, record.version, record.type, name)
            sealed = {k: v for k, v in value.items() if k != "person"}
            try:
                plain[name] = decrypt_field(key, sealed, aad)
            except DecryptionError as exc:
                raise RecordIntegrityError(record.stream, record.version, str(exc)) from exc
        return plain


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _of_person_stream(type_name: str) -> bool:
    """A person's own stream holds only `person.*` records (docs/ledger-format.md 5.1)."""
    return type_name.startswith("person.")
