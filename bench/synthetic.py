"""Deterministic synthetic histories of signed records, made in memory (no database), for the
audit and replay benchmarks: realistic event types, chained per stream, signed like the ledger's.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.domain.actors import Actor, Role
from ledger.domain.person import CourseDelivered, Person, PersonRegistered
from ledger.integrity.keyring import Keyring, PublicKey, Signer, key_id
from ledger.integrity.record import Record, seal
from ledger.store.codec import encode_payload

ORIGIN = "ledger.bench/log"
REGISTRAR = Actor("registrar-bench", Role.REGISTRAR)


def bench_keyring(seed: int = 1) -> tuple[Keyring, Signer]:
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = private.public_key().public_bytes_raw()
    kid = key_id(public)
    since = datetime(2012, 1, 1, tzinfo=UTC)
    keyring = Keyring(ORIGIN, (PublicKey(kid, "records", public, since),))
    return keyring, Signer(kid, private)


def records(
    count: int,
    per_stream: int,
    seed: int = 7,
    signer: Signer | None = None,
    origin: str = ORIGIN,
) -> Iterator[bytes]:
    """`count` signed records: people registered, then courses delivered, `per_stream` per person.

    Personal fields are left as they are in memory here (no per-person key): the benchmark
    measures hashing, chaining, signing and projecting, not AES."""
    rng = random.Random(seed)
    if signer is None:
        _, signer = bench_keyring()
    at = datetime(2020, 1, 1, tzinfo=UTC)
    made = 0
    person_index = 0
    while made < count:
        person_index += 1
        ident = UUID(int=rng.getrandbits(128), version=4)
        person = Person.start(
            PersonRegistered,
            ident,
            REGISTRAR,
            at,
            name="x",
            email="x@example.org",
            organisation="o",
            region=f"Region {person_index % 40}",
            country="Country",
        )
        for n in range(per_stream - 1):
            person.record(
                CourseDelivered,
                REGISTRAR,
                at,
                date(2019, 1, 1) + timedelta(days=n),
                delivery_id=f"d{person_index}-{n}",
                region="Region",
                participants=10,
                full_programme=n % 50 == 0,
                observed_by=None,
            )
        prev = None
        for event in person.collect_events():
            if made >= count:
                return
            record = Record(
                origin=origin,
                stream=str(ident),
                version=event.originator_version,
                type=type(event).TOPIC,
                recorded_at=at,
                payload=encode_payload(event),
                prev=prev,
                kid=signer.kid,
            )
            signed = seal(record, signer)
            prev = signed.digest
            made += 1
            yield signed.data
