"""Restores that serve, on both backends, against the real server process.

The demo ledger is exported as an auditor bundle (which never carries data keys) and its data
keys are backed up; the bundle is imported into a fresh ledger that has a copy of the keys
folder. Served, the restored ledger answers for every demo certificate (verification JSON and
page, credential, PDF) with the holder's name marked as not available here, never a 500; a
command needing a restored person's personal data is refused with a clear problem, and one
that does not need it still works. Once the data-key backup is restored, every answer names
the holder as the original ledger does. `ledger audit` passes throughout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.conftest import IN_CI, new_pg_schema, pg_url
from tests.e2e.conftest import Server, run_ledger, start_server, stop_server
from tests.integration.test_ob3_schema import errors, validator

PAGE_PHRASE = "The holder (name not available here)"
PDF_PHRASE = "name not available here"


ledger = run_ledger


def ok(settings: Settings, *args: str) -> str:
    done = ledger(settings, *args)
    assert done.returncode == 0, f"ledger {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def audit_passes(settings: Settings) -> None:
    report = json.loads(ok(settings, "audit", "--live", "--json"))
    assert report["ok"] is True, report


@pytest.fixture
def served() -> Iterator[list[Server]]:
    """Servers started by the test, stopped whatever happens."""
    running: list[Server] = []
    yield running
    for server in running:
        if server.process.poll() is None:
            stop_server(server)


def serve(settings: Settings, running: list[Server]) -> Server:
    server = start_server(settings, LEDGER_RENDERS_PER_MINUTE="100000")  # one render each
    running.append(server)
    return server


def verification(server: Server, certificate: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{server.base}/verify/{certificate}", headers={"Accept": "application/json"}, timeout=30
    )
    assert answer.status_code == 200, f"{certificate}: {answer.status_code} {answer.text}"
    return dict(answer.json())


def page(server: Server, certificate: str) -> str:
    answer = httpx.get(
        f"{server.base}/verify/{certificate}", headers={"Accept": "text/html"}, timeout=30
    )
    assert answer.status_code == 200, f"{certificate}: {answer.status_code}"
    return answer.text


def credential_subject(server: Server, certificate: str) -> dict[str, Any]:
    """The subject of the certificate's credential, which validates against the OB3 schema."""
    answer = httpx.get(f"{server.base}/credentials/{certificate}", timeout=30)
    assert answer.status_code == 200, f"{certificate}: {answer.status_code} {answer.text}"
    credential = answer.json()
    assert errors(validator("achievementcredential.json"), credential) == [], certificate
    return dict(credential["credentialSubject"])


def pdf_text(server: Server, certificate: str, folder: Path) -> str | None:
    """The PDF's text (poppler's pdftotext), or None where it is not installed (CI has it)."""
    answer = httpx.get(f"{server.base}/credentials/{certificate}.pdf", timeout=60)
    assert answer.status_code == 200, f"{certificate}: {answer.status_code} {answer.text}"
    assert answer.content.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        if IN_CI:
            pytest.fail("pdftotext is required under CI (.ci/run installs it)")
        return None
    document = folder / f"{certificate}.pdf"
    document.write_bytes(answer.content)
    done = subprocess.run(
        ["pdftotext", str(document), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def restored_settings(source: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """A fresh ledger (data folder, or PostgreSQL schema) with a copy of the keys folder."""
    keys = tmp_path / "restored-keys"
    shutil.copytree(source.keys_dir, keys)
    url = None
    if source.database_url is not None:
        database = request.getfixturevalue("pg_database")
        url = pg_url(database, new_pg_schema(database))
    return Settings(
        data_dir=tmp_path / "restored-var",
        keys_dir=keys,
        database_url=url,
        origin=source.origin,
    )


def test_a_ledger_restored_from_a_bundle_serves_every_certificate_and_the_backup_brings_names_back(
    settings: Settings, tmp_path: Path, request: pytest.FixtureRequest, served: list[Server]
) -> None:
    demo = json.loads(ok(settings, "demo", "--json"))
    certificates = sorted(c for ids in demo["certificates"].values() for c in ids)
    assert len(certificates) > 20
    source = serve(settings, served)
    original = {c: verification(source, c) for c in certificates}
    stop_server(source)
    shown = [c for c in certificates if original[c]["holder_name_state"] == "shown"]
    assert len(shown) > 10
    assert all(original[c]["holder"] for c in shown)

    ok(settings, "export", str(tmp_path / "bundle"))
    backup = tmp_path / "data-keys.backup"
    assert "data keys, wrapped" in ok(settings, "keys", "backup-data-keys", "--out", str(backup))

    restored = restored_settings(settings, tmp_path, request)
    ok(restored, "import", str(tmp_path / "bundle"))
    audit_passes(restored)

    server = serve(restored, served)
    for certificate in certificates:
        answer = verification(server, certificate)
        assert answer["status"] == original[certificate]["status"], certificate
        assert answer["holder"] is None, certificate
        expected = "not-available-here" if certificate in shown else "withheld"
        assert answer["holder_name_state"] == expected, certificate
        assert (PAGE_PHRASE in page(server, certificate)) == (certificate in shown), certificate
        assert "name" not in credential_subject(server, certificate), certificate
        text = pdf_text(server, certificate, tmp_path)
        if text is not None:
            assert (PDF_PHRASE in text) == (certificate in shown), certificate

    # A command needing the person's personal data is refused; one that does not still works.
    admin = server.client(server.token("restore-admin", Role.ADMIN))
    licence = next(c for c in shown if c.startswith("LT-"))
    person = admin.get(f"/v1/certificates/{licence}").json()["holder_id"]
    course = admin.post(
        f"/v1/people/{person}/courses",
        json={"delivered_on": "2025-03-14", "region": "Cantabria", "participants": 12},
    )
    assert course.status_code == 201, course.text
    delivery = course.json()["id"]
    refused = admin.post(
        f"/v1/people/{person}/courses/{delivery}/retraction", json={"reason": "recorded twice"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/problems/personal-data-unavailable")
    assert problem["person_id"] == person
    assert person in problem["detail"]
    assert "restore-data-keys" in problem["detail"]
    stop_server(server)
    audit_passes(restored)

    restoring = ok(restored, "keys", "restore-data-keys", str(backup))
    assert "restored 0 " not in restoring
    assert "already present" in restoring
    audit_passes(restored)

    server = serve(restored, served)
    for certificate in certificates:
        answer = verification(server, certificate)
        assert answer["holder"] == original[certificate]["holder"], certificate
        assert answer["holder_name_state"] == original[certificate]["holder_name_state"]
        assert PAGE_PHRASE not in page(server, certificate), certificate
        subject = credential_subject(server, certificate)
        assert subject.get("name") == original[certificate]["holder"], certificate
    text = pdf_text(server, shown[0], tmp_path)
    if text is not None:
        assert PDF_PHRASE not in text
        assert " ".join(str(original[shown[0]]["holder"]).split()) in text
    admin = server.client(server.token("restore-admin-2", Role.ADMIN))
    retracted = admin.post(
        f"/v1/people/{person}/courses/{delivery}/retraction", json={"reason": "recorded twice"}
    )
    assert retracted.status_code == 201, retracted.text
    stop_server(server)
    audit_passes(restored)
