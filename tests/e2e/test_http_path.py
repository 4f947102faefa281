"""A trainer's whole path over HTTP against the real server, checking status and /verify
after each step, on both backends."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import httpx

from ledger.domain.actors import Role
from ledger.domain.calendar import term_end
from tests.e2e.conftest import Server


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    return ok(client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}))


def verify(server: Server, certificate: str) -> dict[str, Any]:
    answer: dict[str, Any] = ok(
        httpx.get(f"{server.base}/verify/{certificate}", headers={"Accept": "application/json"}),
        200,
    )
    return answer


def settled(server: Server, certificate: str) -> httpx.Response:
    """The verification answer once a checkpoint covers the newest record: until then the next
    checkpoint (signed within half a second) changes the answer's proof, and so its tag."""
    previous = None
    for _ in range(50):
        answer = httpx.get(
            f"{server.base}/verify/{certificate}", headers={"Accept": "application/json"}
        )
        if previous is not None and answer.headers["ETag"] == previous.headers["ETag"]:
            return answer
        previous = answer
        time.sleep(0.6)
    raise AssertionError(f"the answer for {certificate} kept changing")


def test_a_trainer_s_whole_path_over_http(server: Server) -> None:
    today = date.today()
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    committee = server.client(server.token("bo", Role.COMMITTEE, str(uuid.uuid4())))
    panel = server.client(server.token("chiara", Role.COMMITTEE, str(uuid.uuid4())))
    start = date(2012, 12, 3)
    programme = post(
        registrar,
        "/v1/programmes",
        {
            "title": "1st programme",
            "starts_on": str(start),
            "ends_on": "2013-07-31",
            "material_version": "ECEI-2012",
        },
    )["id"]
    for week in range(1, 7):
        begin = start + timedelta(weeks=5 * (week - 1))
        post(
            registrar,
            f"/v1/programmes/{programme}/weeks",
            {
                "number": week,
                "starts_on": str(begin),
                "ends_on": str(begin + timedelta(days=4)),
                "place": "Barcelona",
                "modules": [f"Module {week}"],
            },
        )
    tutor_id = post(
        registrar,
        "/v1/people",
        {
            "name": "Tomas Tutor",
            "email": "t@example.org",
            "organisation": "Academy",
            "region": "Linz",
            "country": "Austria",
        },
    )["id"]
    tutor = server.client(server.token("tomas", Role.TUTOR, tutor_id))
    trainer = post(
        registrar,
        "/v1/people",
        {
            "name": "Maria Example",
            "email": "m@example.org",
            "organisation": "Agency",
            "region": "Cantabria",
            "country": "Spain",
        },
    )["id"]
    post(
        registrar,
        f"/v1/programmes/{programme}/enrolments",
        {"person_id": trainer, "consortium": "CIP"},
    )
    for week in range(1, 7):
        post(
            registrar, f"/v1/programmes/{programme}/enrolments/{trainer}/attendance", {"week": week}
        )
    project = post(
        registrar,
        "/v1/projects",
        {
            "programme_id": programme,
            "cluster_initiative": "Gourmet Food",
            "sector": "Food",
            "region": "Cantabria",
            "country": "Spain",
        },
    )["id"]
    post(registrar, f"/v1/projects/{project}/tutor", {"person_id": tutor_id})
    post(registrar, f"/v1/projects/{project}/members", {"person_id": trainer})
    roster = ok(registrar.get(f"/v1/programmes/{programme}/roster"), 200)
    assert roster["participants"][0]["rules"]["R2"]["met"] is True
    post(tutor, f"/v1/projects/{project}/sign-off", {"note": "good", "on": "2013-07-10"})

    qualification = post(
        committee,
        "/v1/qualifications",
        {"programme_id": programme, "person_id": trainer, "on": "2013-07-20"},
    )["id"]
    assert verify(server, qualification)["status"] == "valid"
    status = ok(registrar.get(f"/v1/trainers/{trainer}/status"), 200)
    assert [c["kind"] for c in status["certificates"]] == ["associate_trainer"]

    granted_on = today - timedelta(days=700)  # so that its renewal window is open today
    post(
        registrar,
        "/v1/materials",
        {"version": "ECEI-2014", "title": "2014 edition", "on": "2014-01-10"},
    )
    post(
        registrar,
        f"/v1/people/{trainer}/courses",
        {
            "delivered_on": str(granted_on - timedelta(days=30)),
            "region": "Cantabria",
            "participants": 12,
        },
    )
    licence = post(
        committee,
        "/v1/licences",
        {
            "qualification_id": qualification,
            "regions": ["Cantabria"],
            "languages": ["es"],
            "material_version": "ECEI-2014",
            "on": str(granted_on),
        },
    )["id"]
    answer = verify(server, licence)
    assert (answer["status"], answer["holder"], answer["valid_from"]) == (
        "valid",
        "Maria Example",
        str(granted_on),
    )
    first = settled(server, licence)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=5"
    again = httpx.get(
        f"{server.base}/verify/{licence}",
        headers={"Accept": "application/json", "If-None-Match": tag},
    )
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", tag)

    post(
        committee,
        f"/v1/licences/{licence}/suspension",
        {
            "reason": "complaint",
            "until": str(today + timedelta(days=30)),
            "on": str(today - timedelta(days=10)),
        },
    )
    changed = httpx.get(
        f"{server.base}/verify/{licence}",
        headers={"Accept": "application/json", "If-None-Match": tag},
    )
    assert changed.status_code == 200  # the answer changed: a new body and a new tag
    assert changed.headers["ETag"] != tag
    answer = verify(server, licence)
    assert (answer["status"], answer["reason"]) == ("suspended", "complaint")
    assert (
        ok(registrar.get(f"/v1/trainers/{trainer}/status"), 200)["certificates"][1]["status"]
        == "suspended"
    )

    post(committee, f"/v1/licences/{licence}/reinstatement", {"on": str(today - timedelta(days=2))})
    assert verify(server, licence)["status"] == "valid"

    for days in (150, 100):
        post(
            registrar,
            f"/v1/people/{trainer}/courses",
            {
                "delivered_on": str(today - timedelta(days=days)),
                "region": "Cantabria",
                "participants": 9,
            },
        )
    valid_until = date.fromisoformat(verify(server, licence)["valid_until"])
    early = committee.post(
        f"/v1/licences/{licence}/renewal", json={"on": str(valid_until - timedelta(days=120))}
    )
    assert (early.status_code, early.json()["rule"]) == (422, "R6")
    post(committee, f"/v1/licences/{licence}/renewal", {"on": str(today)})
    renewed = verify(server, licence)
    assert renewed["status"] == "valid"
    assert renewed["valid_until"] == str(term_end(valid_until + timedelta(days=1), 24))  # R6
    assert (
        ok(registrar.get(f"/v1/trainers/{trainer}/status"), 200)["certificates"][1]["status"]
        == "valid"
    )

    post(
        committee,
        f"/v1/licences/{licence}/revocation",
        {"reason": "breach of conduct", "on": str(today)},
    )
    answer = verify(server, licence)
    assert (answer["status"], answer["reason"], answer["since"]) == (
        "revoked",
        "breach of conduct",
        str(today),
    )
    past = ok(
        httpx.get(
            f"{server.base}/verify/{licence}",
            params={"as_of": str(granted_on)},
            headers={"Accept": "application/json"},
        ),
        200,
    )
    assert past["status"] == "valid"
    assert (
        ok(registrar.get(f"/v1/trainers/{trainer}/status"), 200)["certificates"][1]["status"]
        == "revoked"
    )
    history = ok(registrar.get(f"/v1/trainers/{trainer}/history"), 200)
    assert [e["type"] for e in history["events"]].count("certificate.licence_revoked") == 1

    decision = next(e for e in history["events"] if e["type"] == "certificate.licence_revoked")
    appeal = post(
        registrar,
        "/v1/appeals",
        {"certificate_id": licence, "decision_version": decision["version"], "grounds": "disputed"},
    )["id"]
    rejected = committee.post(
        f"/v1/appeals/{appeal}/decision", json={"outcome": "rejected", "reasoning": "x"}
    )
    assert rejected.status_code == 422
    assert rejected.json()["rule"] == "R11"
    post(
        panel,
        f"/v1/appeals/{appeal}/decision",
        {"outcome": "rejected", "reasoning": "facts confirmed"},
    )
    proven = verify(server, licence)
    for _ in range(50):  # a checkpoint covers new records within about a second
        if proven["log"] is not None:
            break
        time.sleep(0.1)
        proven = verify(server, licence)
    assert (
        proven["log"]["position"] == proven["evidence"][-1]["position"] - 0
        or proven["log"]["position"] >= 0
    )
    assert proven["log"]["tree_size"] > proven["log"]["position"]


def test_rule_violations_and_malformed_input_are_problem_details(server: Server) -> None:
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    bad = registrar.post(
        "/v1/people",
        json={"name": "", "email": "x", "organisation": "o", "region": "r", "country": "c"},
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "name"
    unknown = registrar.post(
        f"/v1/programmes/{uuid.uuid4()}/weeks",
        json={
            "number": 1,
            "starts_on": "2013-01-01",
            "ends_on": "2013-01-05",
            "place": "x",
            "modules": [],
        },
    )
    assert (unknown.status_code, unknown.json()["title"]) == (404, "No such programme")
    extra = registrar.post("/v1/materials", json={"version": "v", "title": "t", "colour": "red"})
    assert (extra.status_code, extra.json()["field"]) == (422, "colour")
    future = registrar.post(
        "/v1/materials", json={"version": "v", "title": "t", "on": "2999-01-01"}
    )
    assert (future.status_code, future.json()["field"]) == (422, "on")
    twice = [
        registrar.post("/v1/materials", json={"version": "v9", "title": "t"}) for _ in range(2)
    ]
    assert [r.status_code for r in twice] == [201, 409]
    assert twice[1].headers["content-type"].startswith("application/problem+json")


def test_the_same_post_sent_five_times_at_once_appends_one_event(server: Server) -> None:
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    body = {
        "name": "Ona Example",
        "email": "ona@example.org",
        "organisation": "O",
        "region": "Galicia",
        "country": "Spain",
    }
    size_before = httpx.get(f"{server.base}/readyz").json()["log_size"]

    def send(_: int) -> httpx.Response:
        with server.client(server.token("ana", Role.REGISTRAR)) as client:
            return client.post("/v1/people", json=body, headers={"Idempotency-Key": "same-key-1"})

    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(send, range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == 4
    ok(registrar.get(f"/v1/trainers/{responses[0].json()['id']}/status"), 200)
    deadline = 0
    while httpx.get(f"{server.base}/readyz").json()["log_size"] < size_before + 1 and deadline < 50:
        deadline += 1
        import time

        time.sleep(0.1)
    auditor = server.client(server.token("idem-auditor", Role.AUDITOR))
    entries = auditor.get("/log/entries", params={"start": 0, "end": 10**6}).json()["entries"]
    assert len(entries) == size_before + 1
    reused = registrar.post(
        "/v1/people", json={**body, "name": "Other"}, headers={"Idempotency-Key": "same-key-1"}
    )
    assert (reused.status_code, reused.json()["field"]) == (422, "Idempotency-Key")


def test_ledger_audit_url_verifies_a_running_ledger_from_its_public_log(server: Server) -> None:
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    registrar = server.client(server.token("ana", Role.REGISTRAR))
    for n in range(30):
        post(
            registrar,
            "/v1/people",
            {
                "name": f"P {n}",
                "email": f"p{n}@example.org",
                "organisation": "O",
                "region": "R",
                "country": "C",
            },
        )
    size = 0
    for _ in range(50):
        checkpoint = httpx.get(f"{server.base}/log/checkpoint")
        # 30 people and the key-ring genesis at position 0
        if checkpoint.status_code == 200 and int(checkpoint.text.splitlines()[1]) >= 31:
            size = int(checkpoint.text.splitlines()[1])
            break
        time.sleep(0.1)
    # The trust root comes from the ledger's owner (here: its key folder), never from the server.
    trust = server.settings.keys_dir / "trust-root.json"
    served = httpx.get(f"{server.base}/log/trust-root")
    assert served.status_code == 200
    assert served.text == trust.read_text()
    assert served.headers["x-trust-root-fingerprint"].startswith("sha256:")

    token = server.token("url-auditor", Role.AUDITOR)

    def audit(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "ledger",
                "audit",
                server.base,
                "--json",
                "--token",
                token,
                *extra,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    unpinned = audit()
    assert unpinned.returncode == 3, unpinned.stdout + unpinned.stderr
    assert json.loads(unpinned.stdout)["pinned"] is False
    audited = audit("--trust", str(trust))
    assert audited.returncode == 0, audited.stdout + audited.stderr
    report = json.loads(audited.stdout)
    assert (report["ok"], report["records"], report["newest_checkpoint"]) == (True, size, size)
    assert report["trust_root"] == served.headers["x-trust-root-fingerprint"]
    assert report["key_history_records"] == 1
    assert any("projection digests" in item for item in report["not_checked"])


def test_server_logs_are_json_without_personal_data_or_secrets(server: Server) -> None:
    token = server.token("logcheck", Role.REGISTRAR)
    registrar = server.client(token)
    person = post(
        registrar,
        "/v1/people",
        {
            "name": "Quirina Logtest",
            "email": "quirina@example.org",
            "organisation": "Secret Agency",
            "region": "R",
            "country": "C",
        },
    )
    ok(registrar.get(f"/v1/people/{person['id']}"), 200)
    registrar.post("/v1/people", json={"name": "Quirina Logtest", "email": "bad"})
    httpx.get(
        f"{server.base}/v1/people/{person['id']}", headers={"Authorization": "Bearer ledger_wrong"}
    )
    port = server.base.rsplit(":", 1)[1]
    log = (server.settings.data_dir.parent / f"server-{port}.log").read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)
    for secret in (
        "Quirina",
        "quirina@example.org",
        "Secret Agency",
        token,
        "ledger_wrong",
        person["id"],
    ):
        assert secret not in log
    assert any(json.loads(line).get("route") == "/v1/people/{person_id}" for line in lines)


def qualify(server: Server, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Over HTTP: one programme, one project, and Associate Trainers named `names`; returns
    (person id, certificate id) for each."""
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    committee = server.client(server.token("bo", Role.COMMITTEE, str(uuid.uuid4())))
    person_body = {"email": "t@example.org", "organisation": "A", "region": "R", "country": "C"}
    tutor_id = post(registrar, "/v1/people", {"name": "T", **person_body})["id"]
    tutor = server.client(server.token("tom", Role.TUTOR, tutor_id))
    programme = post(
        registrar,
        "/v1/programmes",
        {"title": "P", "starts_on": "2012-12-03", "ends_on": "2013-07-31", "material_version": "v"},
    )["id"]
    for week in range(1, 6):
        week_body = {"number": week, "starts_on": f"2013-0{week}-01", "ends_on": f"2013-0{week}-05"}
        post(
            registrar,
            f"/v1/programmes/{programme}/weeks",
            {**week_body, "place": "B", "modules": []},
        )
    project_body = {"cluster_initiative": "C", "sector": "S", "region": "R", "country": "C"}
    project = post(registrar, "/v1/projects", {"programme_id": programme, **project_body})["id"]
    post(registrar, f"/v1/projects/{project}/tutor", {"person_id": tutor_id})
    people = []
    for name in names:
        person = post(
            registrar,
            "/v1/people",
            {
                **person_body,
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}@example.org",
                "organisation": f"Org {name}",
            },
        )["id"]
        post(registrar, f"/v1/programmes/{programme}/enrolments", {"person_id": person})
        for week in range(1, 6):
            post(
                registrar,
                f"/v1/programmes/{programme}/enrolments/{person}/attendance",
                {"week": week},
            )
        post(registrar, f"/v1/projects/{project}/members", {"person_id": person})
        people.append(person)
    post(tutor, f"/v1/projects/{project}/sign-off", {"on": "2013-07-10"})
    return [
        (
            person,
            post(committee, "/v1/qualifications", {"programme_id": programme, "person_id": person})[
                "id"
            ],
        )
        for person in people
    ]


def test_credentials_status_lists_and_the_did_document_are_served_and_verify(
    server: Server,
) -> None:
    from ledger.credentials.verifier import verify_credential

    ((_, certificate),) = qualify(server, ("Lena Example",))

    credential = ok(httpx.get(f"{server.base}/credentials/{certificate}"), 200)
    assert credential["credentialSubject"]["name"] == "Lena Example"
    did = ok(httpx.get(f"{server.base}/.well-known/did.json"), 200)
    status_url = credential["credentialStatus"]["statusListCredential"]
    assert status_url.endswith("/status-lists/suspension/1")  # under LEDGER_PUBLIC_URL
    listed = ok(httpx.get(f"{server.base}/status-lists/suspension/1"), 200)
    verdict = verify_credential(credential, did, {status_url: listed}, date.today())
    assert verdict.ok, verdict.lines()
    message = ok(httpx.get(f"{server.base}/status-lists/message/1"), 200)
    assert message["credentialSubject"]["statusPurpose"] == "message"
    assert httpx.get(f"{server.base}/credentials/AT-0000-0000-0000").status_code == 404


def test_a_hidden_or_erased_holder_leaves_the_status_checkable_without_personal_data(
    server: Server,
) -> None:
    registrar = server.client(server.token("ana", Role.REGISTRAR))
    admin = server.client(server.token("root", Role.ADMIN))
    (hidden_person, hidden), (erased_person, erased) = qualify(
        server, ("Hidda Example", "Erna Example")
    )
    people = [hidden_person, erased_person]
    assert verify(server, hidden)["holder"] == "Hidda Example"
    post(registrar, f"/v1/people/{people[0]}/name-visibility", {"hidden": True})
    post(admin, f"/v1/people/{people[1]}/erasure", {"reason": "request"})
    for certificate, name in ((hidden, "Hidda"), (erased, "Erna")):
        answer = verify(server, certificate)
        assert (answer["status"], answer["holder"]) == ("valid", None)
        page = httpx.get(
            f"{server.base}/verify/{certificate}", headers={"Accept": "text/html"}
        ).text
        assert "Valid qualification" in page
        assert "name not shown at their request" in page
        assert name not in page
        assert name not in httpx.get(f"{server.base}/credentials/{certificate}").text


def metric(server: Server, line_start: str) -> float:
    """The value of the /metrics sample whose line starts with `line_start`, 0 if absent."""
    for line in httpx.get(f"{server.base}/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return 0.0


def test_every_answer_is_counted_by_route_template_and_status_refusals_included(
    server: Server,
) -> None:
    registrar = server.client(server.token("counted", Role.REGISTRAR))
    created = 'ledger_http_requests_total{method="POST",route="/v1/people",status="201"}'
    unmatched = 'ledger_http_requests_total{method="GET",route="unmatched",status="404"}'
    too_large = 'ledger_http_requests_total{method="POST",route="unmatched",status="413"}'
    timed = 'ledger_http_request_seconds_count{route="/v1/people"}'
    before = {name: metric(server, name) for name in (created, unmatched, too_large, timed)}

    body = {"name": "Ottilie Count", "email": "o@example.org", "organisation": "O"}
    post(registrar, "/v1/people", {**body, "region": "R", "country": "C"})
    assert httpx.get(f"{server.base}/no/such/page").status_code == 404
    huge = b"{" + b" " * (server.settings.max_body_bytes + 1) + b"}"
    refused = registrar.post(
        "/v1/people", content=huge, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 413

    after = {name: metric(server, name) for name in before}
    assert after[created] == before[created] + 1
    assert after[unmatched] == before[unmatched] + 1
    assert after[too_large] == before[too_large] + 1  # refused before any route was matched
    assert after[timed] == before[timed] + 1
    port = server.base.rsplit(":", 1)[1]
    log = (server.settings.data_dir.parent / f"server-{port}.log").read_text()
    logged = [json.loads(line) for line in log.splitlines() if '"route"' in line]
    assert {"method": "GET", "route": "unmatched", "status": 404} in [
        {k: entry.get(k) for k in ("method", "route", "status")} for entry in logged
    ]
    assert all(entry["duration_ms"] >= 0 for entry in logged)
