"""`/v1/imports` against the real server, on both backends: templates, content types, roles,
dry runs, refused and accepted commits, retries and re-imports."""

from __future__ import annotations

import uuid

import httpx

from ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.registrar_support import Foundation, log_size, ok, refused

TITLE = "Import test programme"


def people_csv(*rows: str) -> bytes:
    return ("name,email,organisation,region,country,programme\r\n" + "".join(rows)).encode()


ROWS = (
    f"Lena Ström,lena.strom@example.org,Agency North,Norrbotten,Sweden,{TITLE}\r\n",
    f"Aldo Ferri,aldo.ferri@example.org,Agency South,Puglia,Italy,{TITLE}\r\n",
)


def send(
    client: httpx.Client,
    kind: str,
    body: bytes,
    *,
    dry_run: bool,
    media: str = "text/csv",
    key: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": media}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(
        f"/v1/imports/{kind}",
        params={"dry_run": str(dry_run).lower()},
        content=body,
        headers=headers,
    )


def test_a_template_downloads_with_its_header_and_an_example(server: Server) -> None:
    registrar = server.client(server.token("registrar", Role.REGISTRAR))
    response = registrar.get("/v1/imports/templates/attendance.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="attendance.csv"' in response.headers["content-disposition"]
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "email,programme,week,attended"
    assert len(lines) == 2
    assert registrar.get("/v1/imports/templates/grades.csv").status_code == 422


def test_only_registrars_and_admins_import_and_only_csv_is_read(server: Server) -> None:
    committee = server.client(server.token("committee", Role.COMMITTEE, str(uuid.uuid4())))
    refused(send(committee, "people", people_csv(*ROWS), dry_run=True), 403)
    admin = server.client(server.token("admin", Role.ADMIN))
    problem = refused(
        admin.post("/v1/imports/people", json={"name": "Lena"}, params={"dry_run": "true"}), 415
    )
    assert problem["type"].endswith("/unsupported-media-type")
    assert "text/csv" in problem["detail"]


def test_dry_run_then_refused_commit_then_one_batch_then_nothing_again(server: Server) -> None:
    staff = Foundation.on(server)
    staff.open_programme(TITLE)
    bad = people_csv(
        ROWS[0],
        "Aldo Ferri,aldo.ferri@,Agency South,Puglia,Italy,Unknown programme\r\n",
    )
    before = log_size(server)

    dry = send(staff.registrar, "people", bad, dry_run=True)
    answer = ok(dry, 200)
    assert (answer["kind"], answer["rows"], answer["valid"]) == ("people", 2, False)
    assert answer["problems"] == [
        {
            "row": 3,
            "column": "email",
            "message": "is not an email address (name@example.org)",
            "rule": None,
        },
        {
            "row": 3,
            "column": "programme",
            "message": "no programme has this title; give a programme's id or its exact title"
            " (GET /v1/programmes lists them)",
            "rule": None,
        },
    ]

    problem = refused(send(staff.registrar, "people", bad, dry_run=False), 422)
    assert problem["type"].endswith("/import-problems")
    assert problem["problems"] == answer["problems"]
    assert log_size(server) == before

    good = people_csv(*ROWS)
    key = str(uuid.uuid4())
    written = ok(send(staff.registrar, "people", good, dry_run=False, key=key), 201)
    assert (written["appended"], written["skipped"], written["valid"]) == (2, 0, True)
    after = log_size(server)
    assert after == before + 4  # two registrations, two enrolments
    assert written["positions"] == list(range(before, after))
    assert written["projected"] is True

    replayed = send(staff.registrar, "people", good, dry_run=False, key=key)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == written
    again = ok(send(staff.registrar, "people", good, dry_run=False), 201)
    assert (again["appended"], again["skipped"], again["positions"]) == (0, 2, [])
    assert log_size(server) == after

    attendance = (
        "email;programme;week;attended\r\n"
        f"lena.strom@example.org;{TITLE};1;yes\r\n"
        f"ALDO.FERRI@example.org;{TITLE};1;no\r\n"
    ).encode()
    recorded = ok(send(staff.registrar, "attendance", attendance, dry_run=False), 201)
    assert recorded["appended"] == 2
    assert log_size(server) == after + 2
