"""The privacy scan: after `ledger demo`, nothing a visitor without a token can reach names a
person who did not opt in to the public register or repeats any free text; and an erased
person leaves no readable trace in public answers, the database files or a `pg_dump`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger import demo
from ledger.config import Settings
from ledger.domain.actors import Actor, Role
from ledger.domain.person import ERASED
from ledger.integrity.keyring import KeyDirectory, init_keyring
from ledger.runtime import open_runtime
from tests.conftest import KEYS_SINCE, TEST_ORIGIN, new_pg_schema, pg_url
from tests.dumps import schema_dump
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.privacy_support import (
    DemoPerson,
    crawl,
    demo_people,
    free_text,
    load_demo,
    not_opted_in,
)

REVOKED_HOLDER = "Burak Tekinalp"  # revoked licence, appealed: reasons, grounds, reasoning


def person_named(name: str) -> DemoPerson:
    return next(p for p in demo_people() if p.name == name)


def strings_of_revoked_holder() -> list[str]:
    return [
        *person_named(REVOKED_HOLDER).strings(),
        demo.REVOCATION_REASON,
        demo.APPEAL_GROUNDS,
        demo.APPEAL_REASONING,
    ]


def strings_of_demo_erased() -> list[str]:
    """The participant the demo itself erases: who withdrew, with a reason."""
    member = next(p for p in demo._participants() if p.name == demo.ERASED_PARTICIPANT)
    assert member.withdrawn is not None
    return [*person_named(member.name).strings(), member.withdrawn.reason]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    folder = tmp_path_factory.mktemp("privacy")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    certificates = load_demo(settings)
    server = start_server(settings)
    try:
        yield server, certificates
    finally:
        stop_server(server)


def test_no_public_answer_names_people_who_did_not_opt_in_or_repeats_free_text(
    demo_server: tuple[Server, dict],
) -> None:
    server, _ = demo_server
    found = crawl(server.base)
    secrets = [s for person in not_opted_in() for s in person.strings()] + free_text()
    assert found.hits(secrets) == []
    # The crawl did reach what it should: the register's certificates and their own evidence.
    verified = [p for p, code in found.statuses.items() if p.startswith("/verify/LT-")]
    assert len([p for p in verified if found.statuses[p] == 200]) >= len(demo.LISTED)
    evidence = [p for p in found.bodies if "/evidence?" in p and found.statuses[p] == 200]
    assert evidence
    assert any('"leaf_data"' in found.bodies[p] for p in evidence)
    assert found.statuses["/log/entries?start=0&end=100000"] == 401


def erase(server: Server, certificate_id: str) -> str:
    """Erase the holder of `certificate_id` through the API, as the data protection officer;
    their person id."""
    auditor = server.client(server.token("scan-auditor", Role.AUDITOR))
    holder = auditor.get(f"/v1/certificates/{certificate_id}").json()["holder_id"]
    admin = server.client(server.token("scan-dpo", Role.ADMIN))
    done = admin.post(f"/v1/people/{holder}/erasure", json={"reason": "request"})
    assert done.status_code == 201, done.text
    return str(holder)


def test_an_erased_person_leaves_no_trace_in_public_answers_or_database_files(
    demo_server: tuple[Server, dict],
) -> None:
    server, certificates = demo_server
    (licence,) = certificates["revoked"]
    before = httpx.get(f"{server.base}/verify/{licence}", headers={"Accept": "application/json"})
    assert before.json()["reason"] == demo.REVOCATION_REASON  # decrypted for the page
    erase(server, licence)

    answer = httpx.get(f"{server.base}/verify/{licence}", headers={"Accept": "application/json"})
    assert (answer.json()["holder"], answer.json()["reason"]) == (None, ERASED)
    found = crawl(server.base)
    for path in (
        f"/verify/{licence}",
        f"/credentials/{licence}",
        f"/credentials/{licence}/bundle",
        f"/credentials/{licence}/evidence?start=0&end=100000",
    ):
        found.bodies[path] = httpx.get(f"{server.base}{path}").text
    secrets = strings_of_revoked_holder() + strings_of_demo_erased()
    assert found.hits(secrets) == []

    files = [p for p in Path(server.settings.data_dir).rglob("*") if p.is_file()]
    assert any(p.name == "ledger.sqlite" for p in files)
    stored = b"".join(p.read_bytes() for p in files)
    assert [s for s in secrets if s.encode() in stored] == []


@pytest.mark.postgres
def test_a_pg_dump_holds_nothing_of_an_erased_person(pg_database: str, tmp_path: Path) -> None:
    init_keyring(KeyDirectory(tmp_path / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(
        data_dir=tmp_path / "var",
        keys_dir=tmp_path / "keys",
        origin=TEST_ORIGIN,
        database_url=pg_url(pg_database, new_pg_schema(pg_database)),
    )
    certificates = load_demo(settings)
    (licence,) = certificates["revoked"]
    runtime = open_runtime(settings)
    try:
        holder = runtime.service.certificate(licence).holder_id
        runtime.service.erase_person(Actor("staff-dpo", Role.ADMIN), holder, "request")
        assert runtime.service.certificate(licence).revocation_reason == ERASED
    finally:
        runtime.close()

    dump = schema_dump(settings.database_url or "")
    assert b"person.registered" in dump  # the dump holds the records
    secrets = strings_of_revoked_holder() + strings_of_demo_erased()
    assert [s for s in secrets if s.encode() in dump] == []
