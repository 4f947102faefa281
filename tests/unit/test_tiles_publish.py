"""The publisher on a real ledger (SQLite and PostgreSQL): its tiles are the log's, a second run
writes nothing, a status change rewrites only that certificate's documents, and a key rotation
signs every credential again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from ledger.clock import ManualClock
from ledger.demo import load_demo
from ledger.integrity.keyring import KeyDirectory
from ledger.publish.publisher import publish
from ledger.publish.tiles import TileTree, tiles_for
from ledger.runtime import Runtime
from ledger.store.key_history import rotate


def published_files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_publisher_writes_the_logs_tiles_and_only_what_changed(
    runtime: Runtime, clock: ManualClock, tmp_path: Path
) -> None:
    today = runtime.clock.now().date()
    load_demo(runtime.service, today)
    runtime.catch_up()
    site = tmp_path / "site"
    first = publish(runtime, site, today)
    latest = runtime.public_log.latest_checkpoint()
    assert latest is not None
    assert first.size == latest.size
    assert first.tiles == len(list(tiles_for(latest.size)))
    assert first.checkpoint_written
    files = published_files(site)
    assert not [p for p in files if ".tmp-" in p]
    tree = TileTree(latest.size, lambda path: files[f"log/{path}"])
    assert tree.root() == latest.root
    assert tree.check_all() == first.tiles
    hashes = runtime.public_log.leaf_hashes(0, min(latest.size, 256))
    assert [tree.leaf_hash(i) for i in range(len(hashes))] == hashes
    ids = sorted(p.split("/")[1][: -len(".json")] for p in files if p.startswith("verify/"))
    assert ids
    assert all(f"credentials/{i}.json" in files for i in ids)
    assert not [i for i in ids if i in files[".publish-state.json"].decode()]

    again = publish(runtime, site, today)
    assert (again.tiles, again.documents, again.checkpoint_written) == (0, 0, False)
    assert published_files(site) == files

    rotate(
        runtime.store,
        KeyDirectory(runtime.settings.keys_dir),
        "records",
        runtime.clock.now() + timedelta(seconds=1),
    )
    clock.advance(timedelta(seconds=2))
    runtime.catch_up()
    rotated = publish(runtime, site, today)
    after = published_files(site)
    assert rotated.size > latest.size
    assert rotated.checkpoint_written
    resigned = [i for i in ids if after[f"credentials/{i}.json"] != files[f"credentials/{i}.json"]]
    assert resigned == ids  # every credential signed again by the new key
    new_kid = runtime.store.signing.keyring.current("records", runtime.clock.now()).kid
    some = json.loads(after[f"credentials/{ids[0]}.json"])
    assert new_kid in json.dumps(some["proof"])
    assert [i for i in ids if after[f"verify/{i}.json"] != files[f"verify/{i}.json"]] == []
    assert json.loads(after["log/key-history"])["size"] == rotated.size
