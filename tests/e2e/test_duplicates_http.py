"""A person registered twice: the second registration answers with the match and waits for
confirmation; marking the duplicate merges the two histories in the read models, and rebuilding
every read model from the log gives the same digests. Over HTTP, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys

from ledger.config import Settings
from ledger.domain.actors import Role
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server
from tests.e2e.registrar_support import Foundation, get, post, refused


def projections(settings: Settings, *args: str) -> str:
    """`ledger projections ...` on the server's settings, as its operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "projections", *args],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def digests(settings: Settings) -> dict[str, str]:
    statuses = json.loads(projections(settings, "status", "--json", "--catch-up"))
    return {s["name"]: s["digest"] for s in statuses}


def test_a_second_registration_waits_for_confirmation_and_a_merge_survives_a_rebuild(
    server: Server,
) -> None:
    staff = Foundation.on(server)
    kept = staff.register("Inés Ejemplo", "ines.ejemplo@agency.example.org", "Cantabria Agency")
    again = {
        "name": "Ines Ejemplo Ruiz",
        "email": "Ines.Ejemplo@Agency.example.org",
        "organisation": "Agencia de Cantabria",
        "region": "Cantabria",
        "country": "Spain",
    }
    answer = refused(staff.registrar.post("/v1/people", json=again), 409)
    assert answer["type"].endswith("/possible-duplicate")
    assert answer["duplicates"] == [
        {
            "person_id": kept.person_id,
            "name": kept.name,
            "email": kept.email,
            "organisation": kept.organisation,
            "region": kept.region,
            "country": kept.country,
        }
    ]
    assert get(staff.registrar, "/v1/people", q="ejemplo")["total"] == 1  # nothing registered
    duplicate = post(staff.registrar, "/v1/people", {**again, "confirm_duplicate": True})["id"]
    assert get(staff.registrar, "/v1/people", q="ejemplo")["total"] == 2

    # Each record has a history of its own: a qualification on one, a course on the other.
    programme = staff.open_programme("Train the trainers 2012-2013")
    tutor = staff.tutor("Tomas Tutor", "tomas.tutor@faculty.example.org")
    certificate = staff.qualified(programme, kept, tutor, "Gourmet Food")
    delivery = post(
        staff.registrar,
        f"/v1/people/{duplicate}/courses",
        {"delivered_on": "2014-03-02", "region": "Cantabria", "participants": 12},
    )["id"]
    assert get(staff.registrar, f"/v1/trainers/{kept.person_id}/status")["courses_delivered"] == 0

    post(
        staff.registrar,
        f"/v1/people/{duplicate}/duplicate-of",
        {"person_id": kept.person_id, "reason": "registered twice at the kick-off"},
    )
    status = get(staff.registrar, f"/v1/trainers/{kept.person_id}/status")
    assert [c["certificate_id"] for c in status["certificates"]] == [certificate]
    assert status["courses_delivered"] == 1  # the duplicate's course counts for the kept person
    history = get(staff.registrar, f"/v1/trainers/{kept.person_id}/history")["events"]
    streams = {e["stream"] for e in history}
    assert {kept.person_id, duplicate} <= streams
    types = [e["type"] for e in history]
    for kind in (
        "person.registered",
        "person.course_delivered",
        "person.marked_duplicate",
        "person.duplicate_merged",
        "certificate.associate_trainer_issued",
    ):
        assert kind in types, (kind, types)
    assert types.count("person.registered") == 2
    found = get(staff.registrar, "/v1/people", q="ejemplo")["items"]
    assert {p["person_id"] for p in found} == {kept.person_id}  # shown as the kept person

    # The duplicate takes no new history; the answer names the person kept.
    refusal = refused(
        staff.registrar.post(
            f"/v1/people/{duplicate}/courses",
            json={"delivered_on": "2014-05-02", "region": "Cantabria", "participants": 9},
        ),
        409,
    )
    assert kept.person_id in refusal["detail"]
    assert delivery  # recorded before the merge, kept after it

    # Rebuilt from the log, every read model is the same, and the server answers the same.
    stop_server(server)
    before = digests(server.settings)
    assert set(before) >= {"trainer_status", "certificate_register", "programme_roster"}
    projections(server.settings, "rebuild", "all")
    assert digests(server.settings) == before
    restarted = start_server(server.settings)
    try:
        client = restarted.client(restarted.token("registrar-again", Role.REGISTRAR))
        assert get(client, f"/v1/trainers/{kept.person_id}/status") == status
        assert get(client, f"/v1/trainers/{kept.person_id}/history")["events"] == history
    finally:
        stop_server(restarted)
