"""The tamper suite: random SQL edits of a 10,000-event ledger, each caught by the audit.

Every mutation is applied with SQL (what someone with full database access can do), the live
database is audited exactly as `ledger audit --live` does, the first reported position is checked
against where the edit was made, and the edit is undone before the next one.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.audit.auditor import Auditor, AuditReport
from ledger.audit.bundle import DatabaseSource
from ledger.integrity.keyring import Signer, key_id
from ledger.log.checkpoints import sign_checkpoint
from ledger.log.sequencer import CheckpointPolicy
from ledger.runtime import Runtime, open_runtime
from ledger.workload import generate
from tests.conftest import Ledger
from tests.rawsql import RawRows

EVENTS = int(os.environ.get("LEDGER_TAMPER_EVENTS", "10000"))
MUTATIONS = int(os.environ.get("LEDGER_TAMPER_MUTATIONS", "200"))
Undo = Callable[[], None]


def populate(ledger: Ledger) -> tuple[Runtime, str]:
    runtime = open_runtime(ledger.settings, clock=ledger.clock, policy=CheckpointPolicy(every=100))
    runtime.sequencer.batch = 100
    generate(runtime.service, EVENTS)
    while runtime.sequencer.sequence_once():
        ledger.clock.advance(timedelta(seconds=1))
        runtime.sequencer.checkpoint()
    runtime.sequencer.checkpoint(force=True)
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    return runtime, latest.note


class Mutations:
    def __init__(self, raw: RawRows, rng: random.Random, origin: str) -> None:
        self.raw, self.rng, self.origin = raw, rng, origin
        self.rows = raw.rows()
        self.checkpoints = raw.checkpoints()
        self.sizes = [c[0] for c in self.checkpoints]

    def signed_before(self, position: int) -> int:
        return max((s for s in self.sizes if s <= position), default=0)

    def pick(self, last: bool = True) -> int:
        return self.rng.randrange(len(self.rows) - (0 if last else 1))

    def _update(self, column: str, value: object, nid: int) -> None:
        self.raw.run(f"UPDATE {{events}} SET {column} = ? WHERE {{nid}} = ?", (value, nid))

    # Each returns (lowest, highest) acceptable first position and how to undo the edit.

    def flip_state_bit(self) -> tuple[int, int, Undo]:
        p = self.pick()
        nid, _, _, _, state = self.rows[p]
        edited = bytearray(state)
        edited[self.rng.randrange(len(edited))] ^= 1 << self.rng.randrange(8)
        self._update("state", bytes(edited), nid)
        return self.signed_before(p), p, lambda: self._update("state", state, nid)

    def change_topic(self) -> tuple[int, int, Undo]:
        p = self.pick()
        nid, _, _, topic, _ = self.rows[p]
        at = self.rng.randrange(len(topic))
        edited = topic[:at] + ("x" if topic[at] != "x" else "y") + topic[at + 1 :]
        self._update("topic", edited, nid)
        return p, p, lambda: self._update("topic", topic, nid)

    def change_version(self) -> tuple[int, int, Undo]:
        p = self.pick()
        nid, _, version, _, _ = self.rows[p]
        self._update("originator_version", version + 100_000, nid)
        return p, p, lambda: self._update("originator_version", version, nid)

    def change_stream(self) -> tuple[int, int, Undo]:
        p = self.pick()
        nid, stream, _, _, _ = self.rows[p]
        text = UUID(str(stream)).hex
        at = self.rng.randrange(len(text))
        flipped = UUID(text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :])
        value = flipped.hex if self.raw.kind == "sqlite" else flipped
        self._update("originator_id", value, nid)
        return p, p, lambda: self._update("originator_id", stream, nid)

    def move_to_end(self) -> tuple[int, int, Undo]:
        p = self.pick(last=False)
        nid = self.rows[p][0]
        moved = self.rows[-1][0] + 1000
        self.raw.run("UPDATE {events} SET {nid} = ? WHERE {nid} = ?", (moved, nid))
        undo = lambda: self.raw.run("UPDATE {events} SET {nid} = ? WHERE {nid} = ?", (nid, moved))  # noqa: E731
        return self.signed_before(p), p, undo

    def delete_event(self) -> tuple[int, int, Undo]:
        p = self.pick()
        row = self.rows[p]
        self.raw.run("DELETE FROM {events} WHERE {nid} = ?", (row[0],))
        return self.signed_before(p), p, lambda: self.raw.insert(row)

    def swap_events(self) -> tuple[int, int, Undo]:
        p, q = sorted(self.rng.sample(range(len(self.rows)), 2))
        a, b = self.rows[p], self.rows[q]
        self._update("state", b[4], a[0])
        self._update("state", a[4], b[0])

        def undo() -> None:
            self._update("state", a[4], a[0])
            self._update("state", b[4], b[0])

        return self.signed_before(p), p, undo

    def truncate_newest(self) -> tuple[int, int, Undo]:
        k = self.rng.randint(1, 50)
        kept = len(self.rows) - k
        removed = self.rows[kept:]
        self.raw.run("DELETE FROM {events} WHERE {nid} >= ?", (removed[0][0],))

        def undo() -> None:
            for row in removed:
                self.raw.insert(row)

        return self.signed_before(kept), kept, undo

    def forge_checkpoint(self) -> tuple[int, int, Undo]:
        size, _root, note, _ = self.rng.choice(self.checkpoints)
        rogue = Ed25519PrivateKey.generate()
        signer = Signer(
            key_id(rogue.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)), rogue
        )
        forged = sign_checkpoint(self.origin, signer, size, bytes(32), datetime_now())
        set_note = "UPDATE {log}ledger_log_checkpoints SET note = ? WHERE tree_size = ?"
        self.raw.run(set_note, (forged, size))
        return size, size, lambda: self.raw.run(set_note, (note, size))

    def roll_back_checkpoints(self) -> tuple[int, int, Undo]:
        k = self.rng.randint(1, 3)
        removed = self.checkpoints[-k:]
        self.raw.run(
            "DELETE FROM {log}ledger_log_checkpoints WHERE tree_size >= ?", (removed[0][0],)
        )
        remaining = self.checkpoints[-k - 1][0]

        def undo() -> None:
            for checkpoint in removed:
                self.raw.run(
                    "INSERT INTO {log}ledger_log_checkpoints (tree_size, root, note, signed_at)"
                    " VALUES (?, ?, ?, ?)",
                    checkpoint,
                )

        return remaining, remaining, undo


def datetime_now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


KINDS = [
    "flip_state_bit",
    "change_topic",
    "change_version",
    "change_stream",
    "move_to_end",
    "delete_event",
    "swap_events",
    "truncate_newest",
    "forge_checkpoint",
    "roll_back_checkpoints",
]


def test_random_sql_mutations_of_a_large_ledger_are_all_detected(
    ledger: Ledger, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime, trusted = populate(ledger)
    keyring = runtime.store.signing.keyring

    verified: set[bytes] = set()  # signatures already checked, by leaf hash: keeps 400 audits fast

    def audit() -> AuditReport:
        source = DatabaseSource(runtime.log_storage, keyring)
        return Auditor(keyring, trusted_checkpoint=trusted, verified=verified).audit(source)

    try:
        clean = audit()
        assert clean.ok, clean.first_problem
        assert clean.records >= EVENTS
        mutations = Mutations(
            RawRows(ledger.settings), random.Random(f"{backend}-20261128"), keyring.origin
        )
        detected: dict[str, int] = {}
        for n in range(MUTATIONS):
            kind = KINDS[n % len(KINDS)]
            lowest, highest, undo = getattr(mutations, kind)()
            try:
                report = audit()
            finally:
                undo()
            first = report.first_problem
            assert first is not None, f"mutation {n} ({kind}) went undetected"
            assert lowest <= first.position <= highest, (kind, lowest, highest, first)
            detected[kind] = detected.get(kind, 0) + 1
        assert audit().ok
        with capsys.disabled():
            print(
                f"\n[{backend}] {sum(detected.values())} of {MUTATIONS} random SQL mutations of a"
                f" {clean.records:,}-event ledger detected, each at its position: {detected}"
            )
        assert sum(detected.values()) == MUTATIONS >= 200 or os.environ.get(
            "LEDGER_TAMPER_MUTATIONS"
        )
    finally:
        runtime.close()
