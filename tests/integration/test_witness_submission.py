"""The ledger gets its checkpoints cosigned by a witness over HTTP, on both backends."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.api.app import create_app as create_api
from ledger.audit.auditor import Auditor
from ledger.audit.bundle import Bundle, export_bundle
from ledger.integrity.tlog_witness import format_add_checkpoint
from ledger.integrity.witness_policy import (
    QuorumNotMetError,
    WitnessPolicy,
    check_newest_checkpoint,
    parse_witness_policy,
)
from ledger.log.checkpoints import verify_checkpoint
from ledger.log.witnessing import Witnessing
from ledger.runtime import Runtime, open_runtime
from ledger.witness.app import create_app
from ledger.witness.core import Witness
from ledger.witness.folder import WitnessKey, parse_logs
from ledger.witness.storage import WitnessStorage
from ledger.worker import BackgroundWorker
from ledger.workload import generate
from tests.conftest import Ledger
from tests.witness_support import serving


@dataclass
class RunningWitness:
    base: str
    key: WitnessKey
    storage: WitnessStorage

    def policy(self, url: str | None = None) -> WitnessPolicy:
        return parse_witness_policy(f"witness w1 {self.key.vkey()} {url or self.base}\nquorum w1\n")

    def size(self, origin: str) -> int:
        state = self.storage.state(origin)
        return 0 if state is None else state.size


@pytest.fixture
def witness(runtime: Runtime, tmp_path: Path) -> Iterator[RunningWitness]:
    key = WitnessKey("witness.test/w1", Ed25519PrivateKey.generate())
    logs = parse_logs(f"log {runtime.public_log.verifier_key()}\n")
    storage = WitnessStorage(tmp_path / "witness.sqlite")
    try:
        with serving(create_app(Witness(key, logs, storage))) as base:
            yield RunningWitness(base, key, storage)
    finally:
        storage.close()


def grow(runtime: Runtime, events: int, seed: int) -> int:
    generate(runtime.service, events, seed=seed)
    runtime.sequencer.catch_up()
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    return latest.size


def test_each_new_checkpoint_is_cosigned_stored_and_served(
    runtime: Runtime, witness: RunningWitness, tmp_path: Path
) -> None:
    origin = runtime.settings.origin
    first = grow(runtime, 20, seed=1)
    witnessing = Witnessing(runtime.log_storage, witness.policy())
    assert witnessing.submit_once() == 1
    assert witness.size(origin) == first
    second = grow(runtime, 20, seed=2)
    assert second > first
    assert witnessing.submit_once() == 1  # with the consistency proof from `first`
    assert witness.size(origin) == second
    assert witnessing.submit_once() == 0  # nothing new to cosign

    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    assert len(latest.cosignatures) == 1
    assert witness.policy().check(latest.cosigned_note).cosigned == ("w1",)
    assert verify_checkpoint(latest.cosigned_note, runtime.store.signing.keyring).size == second

    bundle = tmp_path / "bundle"
    export_bundle(runtime.log_storage, runtime.store.signing.keyring, bundle)
    source = Bundle(bundle)
    assert check_newest_checkpoint(source.checkpoints(), witness.policy()).cosigned == ("w1",)
    assert Auditor(source.keyring()).audit(source).ok

    # Last: the API's shutdown closes the runtime.
    with serving(create_api(runtime, run_worker=False)) as api:
        served = httpx.get(f"{api}/log/checkpoint", timeout=10)
    assert served.status_code == 200
    assert served.text == latest.cosigned_note


def test_the_ledger_follows_the_size_a_witness_reports_in_a_409(
    runtime: Runtime, witness: RunningWitness
) -> None:
    first = grow(runtime, 20, seed=3)
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    # The witness has cosigned `first` already, but this ledger kept no record of it.
    posted = httpx.post(
        f"{witness.base}/add-checkpoint",
        content=format_add_checkpoint(0, [], latest.note),
        timeout=10,
    )
    assert posted.status_code == 200
    second = grow(runtime, 20, seed=4)
    assert Witnessing(runtime.log_storage, witness.policy()).submit_once() == 1
    assert witness.size(runtime.settings.origin) == second > first


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_witness_loses_no_checkpoint_and_is_retried(
    runtime: Runtime, witness: RunningWitness
) -> None:
    size = grow(runtime, 20, seed=5)
    now = [0.0]
    down = Witnessing(
        runtime.log_storage,
        witness.policy(f"http://127.0.0.1:{_closed_port()}"),
        clock=lambda: now[0],
    )
    assert down.submit_once() == 0
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    assert (latest.size, latest.cosignatures) == (size, ())
    with pytest.raises(QuorumNotMetError, match=f"size {size} is below the witness quorum"):
        witness.policy().check(latest.cosigned_note)
    down.witnesses = Witnessing(runtime.log_storage, witness.policy()).witnesses  # back up
    assert down.submit_once() == 0  # still pausing after the failure
    now[0] += 5
    assert down.submit_once() == 1


def test_the_background_worker_submits_checkpoints_to_the_configured_witnesses(
    ledger: Ledger, witness: RunningWitness, tmp_path: Path
) -> None:
    policy = tmp_path / "witnesses.policy"
    policy.write_text(f"witness w1 {witness.key.vkey()} {witness.base}\nquorum w1\n")
    settings = dataclasses.replace(ledger.settings, witnesses=policy)
    runtime = open_runtime(settings, clock=ledger.clock)
    worker = BackgroundWorker(runtime)
    try:
        assert runtime.witnessing is not None
        worker.start()
        generate(runtime.service, 30, seed=6)
        worker.wake()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            latest = runtime.public_log.latest_checkpoint()
            if latest is not None and latest.cosignatures:
                break
            time.sleep(0.1)
        assert latest is not None
        assert latest.cosignatures
        witness.policy().check(latest.cosigned_note)
    finally:
        worker.stop()
        runtime.close()
    assert witness.storage.evidence(runtime.settings.origin) == []
