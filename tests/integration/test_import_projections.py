"""An import builds the projections from the bundle in a worker process while it inserts and
sequences the records, then loads them in one transaction: row for row what the runner's
batches build, on both backends. A ledger whose projections are not at the start takes nothing
built, and its batches apply the records as always."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ledger.audit.bundle import export_bundle
from ledger.audit.importer import build_projections, import_bundle
from ledger.clock import ManualClock
from ledger.config import Settings
from ledger.demo import load_demo
from ledger.integrity.trust_root import TrustRoot
from ledger.runtime import Runtime, open_runtime
from tests.conftest import make_settings

TODAY = date(2026, 11, 28)
Rows = dict[str, list[tuple[str, str, str, str | None]]]


def table_rows(runtime: Runtime) -> Rows:
    """Every row of every active projection generation, as stored (index included)."""
    found: Rows = {}
    for name in runtime.runner.projections:
        active = runtime.runner.active(name)
        assert active is not None
        with runtime.db.read() as tx:
            rows = tx.execute(
                f"SELECT tbl, key, data, idx FROM {runtime.db.table(active.table)}"
            ).fetchall()
        found[name] = sorted((str(t), str(k), str(d), i) for t, k, d, i in rows)
    return found


@pytest.fixture
def source(settings: Settings, tmp_path: Path) -> Iterator[tuple[Runtime, Path]]:
    """The demo ledger, caught up, and its export."""
    clock = ManualClock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))
    runtime = open_runtime(settings, clock=clock)
    try:
        load_demo(runtime.service, TODAY)
        runtime.catch_up()
        projections = {
            s.name: {"version": s.version, "digest": s.digest, "position": s.position}
            for s in runtime.runner.status()
        }
        bundle = tmp_path / "bundle"
        export_bundle(runtime.log_storage, runtime.store.signing.keyring, bundle, projections)
        yield runtime, bundle
    finally:
        runtime.close()


def restored(
    settings: Settings, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Settings:
    """An empty ledger with a copy of the source's key folder, as after a disaster."""
    fresh = make_settings(backend, tmp_path / "restore", request)
    keys = tmp_path / "restore-keys"
    shutil.copytree(settings.keys_dir, keys)
    return replace(fresh, keys_dir=keys)


def test_an_import_loads_projections_built_beside_the_inserts_row_for_row_as_batches_build_them(
    source: tuple[Runtime, Path],
    settings: Settings,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    original, bundle = source
    expected = table_rows(original)
    assert sum(len(rows) for rows in expected.values()) > 100
    assert any(i is not None for rows in expected.values() for *_, i in rows)  # indexed rows

    target = restored(settings, backend, tmp_path, request)
    runtime = open_runtime(target, genesis=False)
    try:
        loads: list[bool] = []
        load_built = runtime.runner.load_built

        def watched(*args: object, **kwargs: object) -> bool:
            loaded = load_built(*args, **kwargs)  # type: ignore[arg-type]
            loads.append(loaded)
            return loaded

        runtime.runner.load_built = watched  # type: ignore[method-assign]
        root = TrustRoot.parse((target.keys_dir / "trust-root.json").read_bytes())
        summary = import_bundle(runtime, bundle, trust_root=root)
        assert loads == [True]  # built beside the inserts, not applied batch by batch
        assert table_rows(runtime) == expected
        statuses = {s.name: s for s in runtime.runner.status()}
        for s in original.runner.status():
            assert statuses[s.name].digest == s.digest
            assert statuses[s.name].position == s.position == summary.records
            assert statuses[s.name].lag == 0
    finally:
        runtime.close()


def test_projections_not_at_the_start_take_nothing_built_and_their_batches_apply_the_records(
    source: tuple[Runtime, Path],
) -> None:
    runtime, bundle = source
    before = table_rows(runtime)
    names = list(runtime.runner.projections)
    count, built = build_projections(bundle, names)
    assert count == runtime.runner.status()[0].position
    assert {name: len(rows) for name, (_, rows) in built.items()} == {
        name: len(rows) for name, rows in before.items()
    }
    assert runtime.runner.load_built(built, count) is False  # positions are not at the start
    assert table_rows(runtime) == before

    # A wrong count, a projection missing or of another version: refused too, nothing written.
    fresh_names = names[1:]
    assert runtime.runner.load_built({n: built[n] for n in fresh_names}, count) is False
    older = {n: (version - 1, rows) for n, (version, rows) in built.items()}
    assert runtime.runner.load_built(older, count) is False
    assert runtime.runner.load_built(built, count + 1) is False
    assert table_rows(runtime) == before
