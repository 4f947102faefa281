"""Enumeration: without a token, no route lists or pages certificate ids, person ids or staff
identities beyond the public register; with the auditor role the full records are there, and
`ledger audit URL --token` verifies the whole log."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from ledger.api.models import EXAMPLE_IDS
from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, start_server, stop_server
from tests.e2e.privacy_support import crawl, load_demo

CERTIFICATE_ID = re.compile(r"\b(?:AT|LT|IC)-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
STAFF_NAMES = ("enum-admin", "enum-auditor", "enum-registrar", "Jana Registrar")


@pytest.fixture(scope="module")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, dict[str, list[str]]]]:
    folder = tmp_path_factory.mktemp("enumeration")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    certificates = load_demo(settings)
    server = start_server(settings)
    try:
        yield server, certificates
    finally:
        stop_server(server)


def all_entries(client: httpx.Client) -> list[dict[str, object]]:
    size = client.get("/readyz").json()["log_size"]
    found: list[dict[str, object]] = []
    while len(found) < size:
        page = client.get("/log/entries", params={"start": len(found), "end": size})
        assert page.status_code == 200, page.text
        found += page.json()["entries"]
    return found


def test_without_a_token_the_full_log_is_refused(
    demo_server: tuple[Server, dict[str, list[str]]],
) -> None:
    server, _ = demo_server
    for path in ("/log/entries?start=0&end=10", "/log/entries?start=5&end=6"):
        answer = httpx.get(f"{server.base}{path}")
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
    registrar = server.client(server.token("enum-registrar", Role.REGISTRAR))
    assert registrar.get("/log/entries?start=0&end=10").status_code == 403


def test_the_log_stays_checkable_without_a_token_by_its_leaf_hashes(
    demo_server: tuple[Server, dict[str, list[str]]],
) -> None:
    server, _ = demo_server
    auditor = server.client(server.token("enum-auditor", Role.AUDITOR))
    entries = all_entries(auditor)
    hashes = httpx.get(f"{server.base}/log/leaf-hashes?start=0&end=1000").json()
    assert hashes["start"] == 0
    assert len(hashes["hashes"]) == min(len(entries), 1000)
    for entry, leaf_hash in zip(entries, hashes["hashes"], strict=False):
        data = base64.b64decode(str(entry["leaf_data"]))
        assert base64.b64decode(leaf_hash) == hashlib.sha256(b"\x00" + data).digest()


def test_no_public_route_lists_certificate_ids_person_ids_or_staff_beyond_the_register(
    demo_server: tuple[Server, dict[str, list[str]]],
) -> None:
    server, certificates = demo_server
    auditor = server.client(server.token("enum-auditor", Role.AUDITOR))
    admin = server.client(server.token("enum-admin", Role.ADMIN))
    records = [json.loads(base64_text(str(e["leaf_data"]))) for e in all_entries(auditor)]
    people = {r["stream"] for r in records if r["type"] == "person.registered"}
    staff_ids = {s["staff_id"] for s in admin.get("/v1/staff").json()["staff"]}
    register = httpx.get(f"{server.base}/register").json()["certificates"]
    listed = {entry["certificate_id"] for entry in register}
    everything = {c for ids in certificates.values() for c in ids}
    assert listed
    assert listed < everything

    found = crawl(server.base)
    seen_ids = {c for body in found.bodies.values() for c in CERTIFICATE_ID.findall(body)}
    # The register's certificates (and the made-up ids of the documentation's examples) only.
    made_up = {"LT-7KQ2-M9XD-3FHW", EXAMPLE_IDS["qualification"], EXAMPLE_IDS["licence"]}
    assert seen_ids - listed <= made_up
    # Person ids and staff appear nowhere but in a listed holder's own evidence.
    outside = {
        p: body
        for p, body in found.bodies.items()
        if not p.startswith(("/verify/", "/credentials/"))
    }
    for path, body in outside.items():
        assert not [p for p in people if p in body], f"{path} names a person id"
        assert not [s for s in staff_ids if s in body], f"{path} names a staff id"
        assert not [n for n in STAFF_NAMES if n in body], f"{path} names a staff member"
    for path, body in found.bodies.items():
        assert not [n for n in STAFF_NAMES if n in body], f"{path} names a staff member"
        assert not [s for s in staff_ids if s in body], f"{path} names a staff id"


def base64_text(value: str) -> str:
    return base64.b64decode(value).decode("utf-8")


def test_records_name_staff_by_pseudonym_and_admins_alone_map_it(
    demo_server: tuple[Server, dict[str, list[str]]],
) -> None:
    server, _ = demo_server
    admin = server.client(server.token("enum-admin", Role.ADMIN))
    registrar_token = server.token("Jana Registrar", Role.REGISTRAR)
    registrar = server.client(registrar_token)
    made = registrar.post(
        "/v1/people",
        json={
            "name": "Wilma Pseudonym",
            "email": "wilma@example.org",
            "organisation": "Example Agency",
            "region": "R",
            "country": "C",
        },
    )
    assert made.status_code == 201, made.text
    auditor = server.client(server.token("enum-auditor", Role.AUDITOR))
    person = made.json()["id"]
    mine: list[dict[str, object]] = []
    for _ in range(100):  # the sequencer adds it to the log within moments
        records = [json.loads(base64_text(str(e["leaf_data"]))) for e in all_entries(auditor)]
        mine = [r for r in records if r["stream"] == person]
        if mine:
            break
        time.sleep(0.1)
    actor = mine[0]["payload"]["actor"]  # type: ignore[index]
    assert re.fullmatch(r"staff-[0-9a-f]{16}", actor)
    staff = admin.get("/v1/staff").json()["staff"]
    assert {"staff_id": actor, "name": "Jana Registrar", "role": "registrar"} in staff
    assert registrar.get("/v1/staff").status_code == 403
    assert auditor.get("/v1/staff").status_code == 403
    assert httpx.get(f"{server.base}/v1/staff").status_code == 401


def test_an_auditor_token_audits_the_whole_log_by_url(
    demo_server: tuple[Server, dict[str, list[str]]],
) -> None:
    server, _ = demo_server
    trust = server.settings.keys_dir / "trust-root.json"

    def audit(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ledger", "audit", server.base, "--trust", str(trust), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    refused = audit()
    assert refused.returncode != 0
    assert "--token or LEDGER_TOKEN" in refused.stderr
    token = server.token("enum-auditor", Role.AUDITOR)
    audited = audit("--token", token, "--json")
    assert audited.returncode == 0, audited.stdout + audited.stderr
    report = json.loads(audited.stdout)
    assert report["ok"] is True
    assert report["records"] >= httpx.get(f"{server.base}/readyz").json()["log_size"] - 1
