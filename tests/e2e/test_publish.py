"""`ledger publish DIR` served by Caddy with deploy/Caddyfile.static, the ledger stopped:
`ledger verify ID --from URL` and `ledger audit URL` succeed on it, tampering with a tile or a
document is caught, and a later publication writes only what changed and extends the old one."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.merkle import leaf_hash, verify_consistency
from ledger.integrity.note import parse_checkpoint, parse_note
from ledger.publish.tiles import TileTree, tiles_for
from tests.e2e.conftest import ROOT, free_port, run_ledger, server_env, start_server, stop_server

CADDYFILE = ROOT / "deploy" / "Caddyfile.static"


ledger = run_ledger


def files(directory: Path) -> dict[str, float]:
    return {
        str(p.relative_to(directory)): p.stat().st_mtime_ns
        for p in directory.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Caddy serving `tmp_path/site` on a free port (a test dependency: `make system-deps`)."""
    binary = shutil.which("caddy")
    assert binary is not None, "caddy is a test dependency: run `make system-deps`"
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    home = tmp_path / "caddy-home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "LEDGER_STATIC_SITE": f"http://127.0.0.1:{port}",
        "LEDGER_PUBLISH_DIR": str(site),
    }
    log = (tmp_path / "caddy.log").open("wb")
    process = subprocess.Popen(
        [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "caddy.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        yield base, site
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_a_publication_stands_in_for_the_public_api(
    settings: Settings, tmp_path: Path, caddy: tuple[str, Path]
) -> None:
    base, site = caddy
    server = start_server(settings)
    try:
        demo = ledger(settings, "demo", "--json")
        assert demo.returncode == 0, demo.stderr
        certificates = json.loads(demo.stdout)["certificates"]
        root = ledger(settings, "trust-root")
        assert root.returncode == 0, root.stderr
    finally:
        stop_server(server)
    (tmp_path / "root.json").write_text(root.stdout)
    trust = ["--trust", str(tmp_path / "root.json")]

    first = ledger(settings, "publish", str(site))
    assert first.returncode == 0, first.stderr
    assert "documents written" in first.stdout
    before = files(site)
    assert not [p for p in before if ".tmp-" in p]
    state = (site / ".publish-state.json").read_text()
    assert not [c for ids in certificates.values() for c in ids if c in state]  # no id listed

    # What is served is what the API serves, by the API's paths, with the right headers.
    valid = certificates["valid"][0]
    answer = httpx.get(f"{base}/verify/{valid}")
    assert answer.status_code == 200
    assert answer.json()["certificate_id"] == valid
    assert answer.headers["Cache-Control"] == "public, max-age=60"
    checkpoint = httpx.get(f"{base}/log/checkpoint")
    assert checkpoint.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert checkpoint.headers["Cache-Control"] == "public, max-age=5"
    size = parse_checkpoint(parse_note(checkpoint.text)[0]).size
    tiles = [t.path for t in tiles_for(size)]
    tile = httpx.get(f"{base}/log/{tiles[0]}")
    assert tile.headers["Content-Type"] == "application/octet-stream"
    assert "immutable" in tile.headers["Cache-Control"]
    assert httpx.get(f"{base}/.publish-state.json").status_code == 404
    assert httpx.get(f"{base}/credentials/").status_code == 404  # no listing of the ids
    assert httpx.get(f"{base}/log/tile/entries/000").status_code == 404  # entries are personal

    # Verified and audited from the publication alone (the ledger is stopped).
    verified = ledger(settings, "verify", valid, "--from", base, *trust)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VALID: status valid" in verified.stdout
    assert "PASS log: the issuing decision" in verified.stdout
    revoked = ledger(settings, "verify", certificates["revoked"][0], "--from", base, *trust)
    assert revoked.returncode == 1
    assert "NOT VALID: status revoked" in revoked.stdout
    audited = ledger(settings, "audit", base, *trust)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert f"all {len(tiles)} tiles hash into the tiles above them" in audited.stdout
    typed = ledger(settings, "verify", valid.lower().replace("-", " "), "--from", base, *trust)
    assert typed.returncode == 0, typed.stdout  # as a person may type it
    wrong = ledger(settings, "verify", "../log/checkpoint", "--from", base, *trust)
    assert wrong.returncode == 2
    assert "is not a certificate id" in wrong.stderr
    unpinned = ledger(settings, "verify", valid, "--from", base)
    assert unpinned.returncode == 3  # consistent, but no trust root to hold it to
    known = ["--trust-on-first-use", "--known-ledgers", str(tmp_path / "known")]
    pinned = ledger(settings, "audit", base, *known)
    assert pinned.returncode == 0, pinned.stdout
    assert "recorded now (trust on first use)" in pinned.stdout
    again = ledger(settings, "verify", valid, "--from", base, *known)
    assert again.returncode == 0, again.stdout
    assert "a known ledger" in again.stdout

    # Tampering with a document's proof, or with a tile, is caught.
    document = site / "verify" / f"{valid}.json"
    original = document.read_bytes()
    changed = json.loads(original)
    changed["log"]["leaf_hash"] = base64.b64encode(leaf_hash(b"another record")).decode()
    document.write_text(json.dumps(changed))
    forged = ledger(settings, "verify", valid, "--from", base, *trust)
    assert forged.returncode == 1
    assert "FAIL log: the document's proof does not verify" in forged.stdout
    document.write_bytes(original)
    last = site / "log" / tiles[-1]
    kept = last.read_bytes()
    last.write_bytes(bytes([kept[0] ^ 1]) + kept[1:])
    for command in (["audit", base, *trust], ["verify", valid, "--from", base, *trust]):
        caught = ledger(settings, *command)
        assert caught.returncode == 1, caught.stdout
        assert "FAIL tiles: the tiles give the root" in caught.stdout
    last.write_bytes(kept)

    # New events: a licence suspended. The next publication rewrites only what changed.
    old_note = checkpoint.text
    server = start_server(settings)
    try:
        licence = next(c for c in certificates["valid"] if c.startswith("LT-"))
        token = server.token("committee-member", Role.COMMITTEE, str(uuid.uuid4()))
        today = date.today()
        response = httpx.post(
            f"{server.base}/v1/licences/{licence}/suspension",
            headers={"Authorization": f"Bearer {token}"},
            json={"reason": "complaint", "until": str(today + timedelta(days=30))},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        old_size = parse_checkpoint(parse_note(old_note)[0]).size
        deadline = time.monotonic() + 30
        while not (
            httpx.get(f"{server.base}/verify/{licence}", timeout=10).json()["status"] == "suspended"
            and parse_checkpoint(
                parse_note(httpx.get(f"{server.base}/log/checkpoint", timeout=10).text)[0]
            ).size
            > old_size
        ):
            assert time.monotonic() < deadline, "the suspension was not checkpointed"
            time.sleep(0.2)
    finally:
        stop_server(server)
    second = ledger(settings, "publish", str(site))
    assert second.returncode == 0, second.stderr
    after = files(site)
    rewritten = {p for p in after if before.get(p) != after[p]}
    assert f"verify/{licence}.json" in rewritten
    assert f"credentials/{licence}.json" in rewritten
    assert "log/checkpoint" in rewritten
    untouched = f"verify/{certificates['valid'][1]}.json"  # (the first was tampered)
    assert untouched not in rewritten  # its status did not change
    assert all(
        before[p] == after[p]
        for p in before
        if p.startswith("log/tile/0/")
        and not p.endswith(tuple(f".p/{w}" for w in range(1, 256)))
        and p in after
    )
    documents = {p for p in rewritten if p.startswith(("verify/", "credentials/"))}
    assert documents - {f"verify/{valid}.json"} == {  # (its restored copy has a new time)
        f"verify/{licence}.json",
        f"credentials/{licence}.json",
    }

    # The old checkpoint is consistent with the new, through the new tiles.
    new_note = (site / "log" / "checkpoint").read_text()
    old = parse_checkpoint(parse_note(old_note)[0])
    new = parse_checkpoint(parse_note(new_note)[0])
    assert new.size > old.size
    tree = TileTree(new.size, lambda path: httpx.get(f"{base}/log/{path}").content)
    assert tree.root() == new.root_hash
    assert tree.root(old.size) == old.root_hash
    from ledger.integrity.merkle import consistency_proof

    proof = consistency_proof(old.size, new.size, tree.node)
    verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
    suspended = ledger(settings, "verify", licence, "--from", base, *trust)
    assert suspended.returncode == 1
    assert "status suspended" in suspended.stdout
    (tmp_path / "old").write_text(old_note)
    again = ledger(settings, "audit", base, *trust, "--trusted-checkpoint", str(tmp_path / "old"))
    assert again.returncode == 0, again.stdout
    assert "PASS trusted checkpoint" in again.stdout


def test_publish_every_keeps_publishing_until_stopped(settings: Settings, tmp_path: Path) -> None:
    demo = ledger(settings, "demo")
    assert demo.returncode == 0, demo.stderr
    site = tmp_path / "site"
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", "publish", str(site), "--every", "0.5"],
        env=server_env(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (site / "log" / "checkpoint").is_file():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "nothing published in 60 s"
            time.sleep(0.2)
        time.sleep(1.5)  # at least one more round, which finds nothing new
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    rounds = out.splitlines()
    assert rounds[0].startswith("published the checkpoint of size")
    assert len(rounds) >= 2
    assert "(unchanged): 0 new tiles, 0 documents written" in rounds[-1]  # nothing new since
    assert "stopped" in err
