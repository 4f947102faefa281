"""Searching people over HTTP against a real server, both backends: a registered person is
found by a folded word of their name, yet neither their name, email or organisation, nor the
folded words the index is built from, appear in clear in the database files, a `pg_dump` or the
server's log, before or after erasure; once erased they are found no more, at once."""

from __future__ import annotations

from pathlib import Path

import httpx

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.dumps import schema_dump
from tests.e2e.conftest import Server

NAME = "Wenceslava Quirinová-Baptistová"
EMAIL = "wenceslava.quirinova@example.org"
ORGANISATION = "Spolok Quirinových Záhrad"
REGION = "Kysuce"  # not personal: stored in clear, which shows the scan reads the records
SECRETS = [
    NAME,
    EMAIL,
    ORGANISATION,
    "Quirinová",
    "Baptistová",
    "Quirinových",
    # the folded words and prefixes the index is built from
    "wenceslava",
    "quirinova",
    "baptistova",
    "quirinovych",
    "zahrad",
    "quirin",
]


def stored_bytes(settings: Settings) -> bytes:
    """Every SQLite file under the data folder (the -wal and -shm files too), and on
    PostgreSQL a dump of the ledger's schema."""
    files = [p for p in sorted(Path(settings.data_dir).rglob("*")) if p.is_file()]
    stored = b"".join(p.read_bytes() for p in files)
    if settings.database_url is None:
        assert any(p.name == "ledger.sqlite-wal" for p in files)
        return stored
    dump = schema_dump(settings.database_url)
    assert b"search_tokens" in dump  # the dump holds the index
    return stored + dump


def in_clear(stored: bytes, secrets: list[str]) -> list[str]:
    """The secrets found raw, in either case, or as the hex text a dump writes for bytea."""
    lowered = stored.lower()
    return [
        s for s in secrets if s.lower().encode() in lowered or s.encode().hex().encode() in lowered
    ]


def search(staff: httpx.Client, query: str) -> list[str]:
    answer = staff.get("/v1/people", params={"q": query})
    assert answer.status_code == 200, answer.text
    return [item["person_id"] for item in answer.json()["items"]]


def test_search_finds_a_person_whose_name_is_nowhere_in_clear_and_not_after_erasure(
    server: Server,
) -> None:
    registrar = server.client(server.token("search-registrar", Role.REGISTRAR))
    admin = server.client(server.token("search-dpo", Role.ADMIN))
    answer = registrar.post(
        "/v1/people",
        json={
            "name": NAME,
            "email": EMAIL,
            "organisation": ORGANISATION,
            "region": REGION,
            "country": "Slovakia",
        },
    )
    assert answer.status_code == 201, answer.text
    person = answer.json()["id"]

    for query in ("quirinova", "Quirinová baptist", "WENCESLAVA", EMAIL):
        assert search(registrar, query) == [person]
    stored = stored_bytes(server.settings)
    assert REGION.encode() in stored
    assert in_clear(stored, SECRETS) == []

    erased = admin.post(f"/v1/people/{person}/erasure", json={"reason": "request"})
    assert erased.status_code == 201, erased.text
    for query in ("quirinova", "wenceslava", EMAIL):
        assert search(registrar, query) == []  # at once
    assert in_clear(stored_bytes(server.settings), SECRETS) == []
    log = Path(server.settings.data_dir).parent / f"server-{server.base.rsplit(':', 1)[1]}.log"
    assert in_clear(log.read_bytes(), SECRETS) == []
