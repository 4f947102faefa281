"""The HTTP contract of the registrar's bulk commands and corrections, against the real server
on both backends: refusals as RFC 9457 problem details naming every refused item, retries that
append nothing, possible duplicates named on every answer yet never stored in clear, and the
roles each route admits (tutors where the programme's policy lets them)."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from ledger.db import Database
from ledger.domain.actors import Role
from tests.e2e.conftest import Server

PROBLEM = "https://ledger.efce.example/problems/"
PROGRAMME_START = date(2021, 1, 11)


def answer(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 201) -> Any:
    return answer(
        client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}), status
    )


class Office:
    """The registrar's office on one server."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.registrar = server.client(server.token("registrar", Role.REGISTRAR))

    def person(self, name: str, organisation: str | None = None) -> str:
        email = name.lower().replace(" ", ".") + "@example.org"
        body = {
            "name": name,
            "email": email,
            "organisation": organisation or f"{name} Agency",
            "region": "Cantabria",
            "country": "Spain",
        }
        person: str = post(self.registrar, "/v1/people", body)["id"]
        return person

    def programme(self, title: str, *, tutors_record_attendance: int = 0) -> str:
        programme: str = post(
            self.registrar,
            "/v1/programmes",
            {
                "title": title,
                "starts_on": str(PROGRAMME_START),
                "ends_on": str(PROGRAMME_START + timedelta(weeks=26)),
                "material_version": "2023.1",
                "policy": {"tutors_record_attendance": tutors_record_attendance},
            },
        )["id"]
        for number in (1, 2):
            begins = str(PROGRAMME_START + timedelta(weeks=4 * (number - 1)))
            post(
                self.registrar,
                f"/v1/programmes/{programme}/weeks",
                {
                    "number": number,
                    "starts_on": begins,
                    "ends_on": begins,
                    "place": "Bilbao",
                    "modules": [],
                },
            )
        return programme

    def enrol(self, programme: str, *people: str) -> Any:
        return post(
            self.registrar,
            f"/v1/programmes/{programme}/enrolments/batch",
            {"people": [{"person_id": p} for p in people]},
        )

    def project(self, programme: str, tutor: str, members: list[str]) -> str:
        project: str = post(
            self.registrar,
            "/v1/projects",
            {
                "programme_id": programme,
                "cluster_initiative": "Valley Food Cluster",
                "sector": "food",
                "region": "Cantabria",
                "country": "Spain",
            },
        )["id"]
        post(self.registrar, f"/v1/projects/{project}/tutor", {"person_id": tutor})
        for member in members:
            post(self.registrar, f"/v1/projects/{project}/members", {"person_id": member})
        return project

    def log_size(self) -> int:
        """The log's size once it holds every stored record (an answer waits for the read
        models, not for the log, which the worker sequences on its own)."""
        deadline = time.monotonic() + 30
        while True:
            log = answer(httpx.get(f"{self.server.base}/readyz"), 200)["checks"]["log"]
            if log.get("log_lag") == 0 or time.monotonic() > deadline:
                return int(log["log_size"])
            time.sleep(0.05)


def stored_answers(server: Server) -> str:
    """Every answer kept for Idempotency-Key replays, as the database holds them."""
    db = Database(server.settings)
    try:
        with db.read() as tx:
            rows = tx.execute(f"SELECT body FROM {db.table('ledger_request_keys')}").fetchall()
    finally:
        db.close()
    return "\n".join(str(row[0]) for row in rows)


def test_a_possible_duplicate_is_named_on_every_answer_but_stored_without_personal_data(
    server: Server,
) -> None:
    office = Office(server)
    first = office.person("Ana Hrušovská", "Trnava Cluster Agency")
    again = {
        "name": "Ana Hrusovska",
        "email": "Ana.Hrusovska@Example.org",
        "organisation": "Trnava Regional Office",
        "region": "Trnava",
        "country": "Slovakia",
    }
    key = {"Idempotency-Key": "register-ana-again"}
    refused = answer(office.registrar.post("/v1/people", json=again, headers=key), 409)
    replayed = office.registrar.post("/v1/people", json=again, headers=key)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    named = {
        "person_id": first,
        "name": "Ana Hrušovská",
        "email": "ana.hrušovská@example.org",
        "organisation": "Trnava Cluster Agency",
        "region": "Cantabria",
        "country": "Spain",
    }
    assert refused["type"] == PROBLEM + "possible-duplicate"
    assert refused["duplicates"] == [named]
    assert answer(replayed, 409) == refused
    stored = stored_answers(server)
    assert first in stored
    for personal in ("Hrušovská", "Hrusovska", "hrušovská", "Trnava"):
        assert personal not in stored
    confirmed = post(office.registrar, "/v1/people", {**again, "confirm_duplicate": True})
    assert confirmed["id"] != first
    assert confirmed["positions"]


def test_a_refused_batch_lists_every_refused_item_and_writes_nothing(server: Server) -> None:
    office = Office(server)
    programme = office.programme("Batch programme")
    present, absent, outsider = (
        office.person(f"Batch Person {n}") for n in ("One", "Two", "Three")
    )
    office.enrol(programme, present, absent)
    week = f"/v1/programmes/{programme}/weeks/1/attendance"
    post(office.registrar, week, {"entries": [{"person_id": present, "attended": True}]})
    size = office.log_size()

    mixed = post(
        office.registrar,
        week,
        {
            "entries": [
                {"person_id": present, "attended": False},
                {"person_id": absent, "attended": False},
                {"person_id": outsider, "attended": True},
            ]
        },
        422,
    )
    assert mixed["type"] == PROBLEM + "batch-refused"
    assert [(e["item"], e["rule"], e["field"]) for e in mixed["errors"]] == [
        (present, None, None),
        (outsider, None, None),
    ]
    assert "correction" in mixed["errors"][0]["detail"]
    assert all(e["item"] in mixed["detail"] for e in mixed["errors"])

    conflicts = post(
        office.registrar, week, {"entries": [{"person_id": present, "attended": False}]}, 409
    )
    assert [e["item"] for e in conflicts["errors"]] == [present]

    unknown = str(uuid.uuid4())
    enrolment = post(
        office.registrar,
        f"/v1/programmes/{programme}/enrolments/batch",
        {"people": [{"person_id": outsider}, {"person_id": unknown}]},
        422,
    )
    assert [e["item"] for e in enrolment["errors"]] == [unknown]
    assert office.log_size() == size  # nothing of any refused batch was written
    malformed = post(office.registrar, week, {"entries": []}, 422)
    assert malformed["type"] == PROBLEM + "invalid-field"
    assert malformed["field"] == "entries"


def test_a_batch_sent_again_appends_nothing_and_answers_log_positions(server: Server) -> None:
    office = Office(server)
    programme = office.programme("Repeat programme")
    people = [office.person(f"Repeat Person {n}") for n in ("One", "Two", "Three")]
    enrolled = office.enrol(programme, *people)
    assert len(enrolled["positions"]) == 3
    body = {"entries": [{"person_id": p, "attended": p != people[2]} for p in people]}
    week = f"/v1/programmes/{programme}/weeks/2/attendance"
    first = post(office.registrar, week, body)
    start = first["positions"][0]
    assert first["positions"] == [start, start + 1, start + 2]
    assert first["projected"] is True
    size = office.log_size()
    again = post(office.registrar, week, body)
    assert (again["positions"], office.log_size()) == ([], size)
    assert office.enrol(programme, *people)["positions"] == []


def test_tutors_record_attendance_only_where_the_policy_lets_them(server: Server) -> None:
    office = Office(server)
    tutor = office.person("Tomas Tutor", "Foundation Faculty")
    other_tutor = office.person("Olga Tutor", "Foundation Faculty")
    tutoring = server.client(server.token("tomas", Role.TUTOR, tutor))
    participant = office.person("Policy Participant")
    allowed = office.programme("Tutors allowed", tutors_record_attendance=1)
    closed = office.programme("Tutors not allowed")
    elsewhere = office.programme("Tutored by another", tutors_record_attendance=1)
    for programme, by in ((allowed, tutor), (closed, tutor), (elsewhere, other_tutor)):
        office.enrol(programme, participant)
        office.project(programme, by, [participant])

    entries = {"entries": [{"person_id": participant, "attended": True}]}
    assert post(tutoring, f"/v1/programmes/{allowed}/weeks/1/attendance", entries)["positions"]
    single = f"/v1/programmes/{allowed}/enrolments/{participant}/attendance"
    assert post(tutoring, single, {"week": 2})["positions"]
    for programme, wording in ((closed, "tutors_record_attendance is 0"), (elsewhere, "own")):
        refused = post(tutoring, f"/v1/programmes/{programme}/weeks/1/attendance", entries, 422)
        assert refused["rule"] == "POLICY"
        assert wording in refused["detail"]
        single = f"/v1/programmes/{programme}/enrolments/{participant}/attendance"
        assert post(tutoring, single, {"week": 1}, 422)["rule"] == "POLICY"
    correction = f"/v1/programmes/{allowed}/enrolments/{participant}/attendance/1/correction"
    post(tutoring, correction, {"attended": False, "reason": "left early"}, 403)
    post(office.registrar, correction, {"attended": False, "reason": "left early"})


def test_a_sign_off_is_withdrawn_by_its_own_tutor_or_the_registrar(server: Server) -> None:
    office = Office(server)
    tutor = office.person("Sara Tutor", "Foundation Faculty")
    other = office.person("Ugo Tutor", "Foundation Faculty")
    member = office.person("Withdrawal Member")
    programme = office.programme("Withdrawal programme")
    office.enrol(programme, member)
    project = office.project(programme, tutor, [member])
    own = server.client(server.token("sara", Role.TUTOR, tutor))
    stranger = server.client(server.token("ugo", Role.TUTOR, other))
    committee = server.client(server.token("carla", Role.COMMITTEE, str(uuid.uuid4())))
    withdrawal = f"/v1/projects/{project}/sign-off/withdrawal"
    reason = {"reason": "signed the wrong project"}

    post(own, f"/v1/projects/{project}/sign-off", {"on": "2021-07-12"})
    assert post(stranger, withdrawal, reason, 422)["rule"] == "R3"
    post(committee, withdrawal, reason, 403)
    assert post(own, withdrawal, reason)["positions"]
    assert post(office.registrar, withdrawal, reason, 409)["type"] == PROBLEM + "conflict"
    post(own, f"/v1/projects/{project}/sign-off", {"on": "2021-07-14"})
    assert post(office.registrar, withdrawal, reason)["positions"]
