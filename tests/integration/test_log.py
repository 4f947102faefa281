"""The transparency log on both backends: dense leaves, checkpoints, proofs, one writer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ledger.domain.certificates import LicenceSuspended
from ledger.domain.errors import Conflict
from ledger.domain.values import PersonalText
from ledger.integrity.merkle import (
    consistency_proof_node_ids,
    inclusion_proof_node_ids,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.integrity.note import parse_verifier_key
from ledger.log.checkpoints import verify_checkpoint
from ledger.log.public import LogRequestError
from ledger.log.sequencer import CheckpointPolicy, LogCorruptedError
from ledger.runtime import Runtime, open_runtime
from ledger.workload import generate
from tests.builders import COMMITTEE, licensed
from tests.conftest import Ledger
from tests.rawsql import RawEvents


@pytest.fixture
def runtime(ledger: Ledger) -> Iterator[Runtime]:
    rt = open_runtime(ledger.settings, clock=ledger.clock, policy=CheckpointPolicy(every=5))
    try:
        yield rt
    finally:
        rt.close()


def leaves(runtime: Runtime) -> list[tuple[int, int]]:
    size = runtime.public_log.size()
    return [(i, row.notification_id) for i, row in runtime.log_storage.entries(0, size)]


def test_leaf_indices_are_dense_in_commit_order_even_across_failed_writes(
    runtime: Runtime,
) -> None:
    service = runtime.service
    _, licence_id = licensed(service)
    stale = service.licence(licence_id)
    service.suspend_licence(COMMITTEE, licence_id, "a", date(2015, 2, 1), on=date(2015, 1, 10))
    stale.record(
        LicenceSuspended,
        COMMITTEE,
        runtime.clock.now(),
        date(2015, 1, 10),
        reason=PersonalText("b", stale.holder_id),
        until=date(2015, 2, 1),
    )
    with pytest.raises(Conflict):
        runtime.store.save(stale)  # a failed insert (on PostgreSQL it burns a notification id)
    generate(service, 60)
    runtime.sequencer.catch_up()
    found = leaves(runtime)
    assert [i for i, _ in found] == list(range(len(found)))
    ids = [n for _, n in found]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert len(found) == sum(1 for _ in runtime.log_storage.all_events())


def test_every_served_proof_verifies_against_the_signed_checkpoints(runtime: Runtime) -> None:
    generate(runtime.service, 40)
    runtime.sequencer.batch = 7
    while runtime.sequencer.sequence_once():
        runtime.sequencer.checkpoint()
    runtime.sequencer.checkpoint(force=True)
    log, keyring = runtime.public_log, runtime.store.signing.keyring
    checkpoints = [verify_checkpoint(c.note, keyring) for c in runtime.log_storage.checkpoints()]
    assert len(checkpoints) >= 2
    entries = log.entries(0, checkpoints[-1].size)
    for checkpoint in checkpoints:
        for entry in entries[: checkpoint.size]:
            proof = log.inclusion_proof(entry.index, checkpoint.size)
            verify_inclusion(
                leaf_hash(entry.leaf_data), entry.index, checkpoint.size, proof, checkpoint.root
            )
    for older in checkpoints[:-1]:
        newer = checkpoints[-1]
        proof = log.consistency_proof(older.size, newer.size)
        verify_consistency(older.size, newer.size, proof, older.root, newer.root)


def test_a_checkpoint_follows_every_n_new_events(runtime: Runtime) -> None:
    generate(runtime.service, 12)
    runtime.sequencer.batch = 5
    while runtime.sequencer.sequence_once():
        runtime.sequencer.checkpoint()
    sizes = [c.size for c in runtime.log_storage.checkpoints()]
    assert sizes[:2] == [5, 10]


def test_the_log_key_verifies_the_latest_checkpoint(runtime: Runtime) -> None:
    generate(runtime.service, 10)
    runtime.sequencer.catch_up()
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    verifier = parse_verifier_key(runtime.public_log.verifier_key())
    assert verifier.name == runtime.store.signing.origin
    from ledger.integrity.note import open_checkpoint

    checkpoint, _ = open_checkpoint(latest.note, [verifier])
    assert checkpoint.size == runtime.public_log.size()


def test_the_checkpointer_refuses_a_tree_inconsistent_with_its_last_checkpoint(
    runtime: Runtime, ledger: Ledger
) -> None:
    generate(runtime.service, 10)
    runtime.sequencer.catch_up()
    signed = runtime.log_storage.checkpoints()
    generate(runtime.service, 10)
    runtime.sequencer.sequence_once()
    (level, index), *_ = consistency_proof_node_ids(signed[-1].size, runtime.public_log.size())[0]
    RawEvents(ledger.settings).execute_log(
        "UPDATE {log}ledger_log_nodes SET hash = ? WHERE level = ? AND node_index = ?",
        (b"\x01" * 32, level, index),
    )
    with pytest.raises(Exception, match="root|proof"):
        runtime.sequencer.checkpoint(force=True)
    assert runtime.log_storage.checkpoints() == signed


def test_a_missing_node_is_reported_not_papered_over(runtime: Runtime, ledger: Ledger) -> None:
    generate(runtime.service, 10)
    runtime.sequencer.catch_up()
    size = runtime.public_log.size()
    (level, index), *_ = inclusion_proof_node_ids(3, size)[0]
    RawEvents(ledger.settings).execute_log(
        "DELETE FROM {log}ledger_log_nodes WHERE level = ? AND node_index = ?", (level, index)
    )
    with pytest.raises(LogCorruptedError, match=rf"\({level}, {index}\)"):
        runtime.public_log.inclusion_proof(3, size)


def test_concurrent_sequencers_neither_skip_nor_duplicate(ledger: Ledger) -> None:
    runtimes = [open_runtime(ledger.settings, clock=ledger.clock) for _ in range(3)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=rt.sequencer.run, args=(stop, 0.01), daemon=True)
        for rt in runtimes[1:]
    ]
    try:
        for thread in threads:
            thread.start()
        generate(runtimes[0].service, 300)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        runtimes[0].sequencer.catch_up()
        found = leaves(runtimes[0])
        assert [i for i, _ in found] == list(range(len(found)))
        assert len({n for _, n in found}) == len(found)
        assert len(found) == sum(1 for _ in runtimes[0].log_storage.all_events())
    finally:
        stop.set()
        for rt in runtimes:
            rt.close()


def test_bad_log_requests_name_the_field(runtime: Runtime) -> None:
    generate(runtime.service, 10)
    runtime.sequencer.catch_up()
    size = runtime.public_log.size()
    for call, field in [
        (lambda: runtime.public_log.inclusion_proof(size, size), "index"),
        (lambda: runtime.public_log.inclusion_proof(0, size + 1), "size"),
        (lambda: runtime.public_log.consistency_proof(0, size), "from"),
        (lambda: runtime.public_log.consistency_proof(2, size + 5), "to"),
        (lambda: runtime.public_log.entries(-1, 3), "start"),
        (lambda: runtime.public_log.entries(5, 5), "end"),
    ]:
        with pytest.raises(LogRequestError) as caught:
            call()
        assert caught.value.field == field
    assert len(runtime.public_log.entries(0, 10**6)) == size


def test_a_checkpoint_is_signed_once_the_interval_has_passed(ledger: Ledger) -> None:
    runtime = open_runtime(
        ledger.settings, clock=ledger.clock, policy=CheckpointPolicy(every=10**6, interval=0.3)
    )
    try:
        generate(runtime.service, 10)
        runtime.sequencer.sequence_once()
        assert runtime.sequencer.checkpoint() is None  # fewer than `every`, interval not over
        threading.Event().wait(0.35)
        signed = runtime.sequencer.checkpoint()
        assert signed is not None
        assert signed.size == runtime.public_log.size()
    finally:
        runtime.close()


def test_checkpoint_settings_come_from_the_environment() -> None:
    from ledger.config import ConfigError, Settings

    settings = Settings.from_env(
        {"LEDGER_CHECKPOINT_EVERY": "50", "LEDGER_CHECKPOINT_INTERVAL_MS": "200"}
    )
    assert (settings.checkpoint_every, settings.checkpoint_interval_ms) == (50, 200)
    with pytest.raises(ConfigError, match="LEDGER_CHECKPOINT_EVERY has value 'many'"):
        Settings.from_env({"LEDGER_CHECKPOINT_EVERY": "many"})


def test_latest_inclusion_reads_the_checkpoint_leaf_and_proof_from_one_snapshot(
    runtime: Runtime,
) -> None:
    generate(runtime.service, 30)
    runtime.sequencer.catch_up()
    log, keyring = runtime.public_log, runtime.store.signing.keyring
    size = log.size()
    entries = log.entries(0, size)
    for entry in entries:
        found = log.latest_inclusion(entry.index)
        assert found is not None
        checkpoint, leaf, proof = found
        assert checkpoint.size == size
        assert leaf == leaf_hash(entry.leaf_data)
        assert verify_checkpoint(checkpoint.note, keyring).root == checkpoint.root
        verify_inclusion(leaf, entry.index, checkpoint.size, proof, checkpoint.root)
    generate(runtime.service, 3)
    runtime.sequencer.sequence_once()  # sequenced, not yet under a checkpoint
    assert log.size() > size
    assert log.latest_inclusion(size) is None
    assert log.latest_inclusion(-1) is None


def test_a_checkpoint_not_due_is_known_without_a_transaction(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a batch the worker asks whether a checkpoint is due: when this sequencer knows it
    is not (fewer than `every` new leaves, the oldest younger than `interval`), the store is
    not opened. Leaves another process sequenced are signed within the interval all the
    same."""
    runtime = open_runtime(
        ledger.settings, clock=ledger.clock, policy=CheckpointPolicy(every=10**6, interval=0.3)
    )
    other = open_runtime(
        ledger.settings, clock=ledger.clock, policy=CheckpointPolicy(every=10**6, interval=0.3)
    )
    try:
        sequencer = runtime.sequencer
        generate(runtime.service, 6)
        sequencer.sequence_once()
        assert sequencer.checkpoint() is None  # looked: not due yet
        opened: list[int] = []
        write = runtime.log_storage.write

        def counted(**kwargs: Any) -> Any:
            opened.append(1)
            return write(**kwargs)

        monkeypatch.setattr(runtime.log_storage, "write", counted)
        generate(runtime.service, 2)
        sequencer.sequence_once()
        opened.clear()
        for _ in range(5):
            assert sequencer.checkpoint() is None
        assert opened == []  # known without the store
        threading.Event().wait(0.35)
        signed = sequencer.checkpoint()
        assert signed is not None
        assert signed.size == runtime.public_log.size()

        # Leaves sequenced by another process: this sequencer saw none of them; it finds them
        # when it looks again, after an interval, and signs them an interval later.
        generate(other.service, 3)
        added = other.sequencer.sequence_once()
        assert added > 0
        assert sequencer.checkpoint() is None
        threading.Event().wait(0.35)
        assert sequencer.checkpoint() is None
        threading.Event().wait(0.35)
        late = sequencer.checkpoint()
        assert late is not None
        assert late.size == signed.size + added
    finally:
        other.close()
        runtime.close()
