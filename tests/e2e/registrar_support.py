"""The registrar's and the committee's work over HTTP, as the end-to-end tests of the staff
routes share it: a programme of six past weeks, people, teams with tutors, qualifications.

Dates are in 2012 and 2013 (the server's clock is real: every date of effect must be past).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from ledger.domain.actors import Role
from tests.e2e.conftest import Server

PROGRAMME_START = date(2012, 12, 3)
WEEKS = 6


def week_start(number: int) -> date:
    """In-class week `number` (1 to 6) starts on this Monday, five weeks after the previous."""
    return PROGRAMME_START + timedelta(weeks=5 * (number - 1))


def today() -> date:
    """The server's today (its clock is real and in UTC)."""
    return datetime.now(UTC).date()


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 201) -> Any:
    """A command, retry-safe as a client should send it."""
    return ok(client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}), status)


def get(client: httpx.Client, path: str, **params: Any) -> Any:
    return ok(client.get(path, params={k: v for k, v in params.items() if v is not None}), 200)


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    """A refusal: its status, as RFC 9457 problem details."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def verify(server: Server, certificate: str, **params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = ok(
        httpx.get(
            f"{server.base}/verify/{certificate}",
            params=params,
            headers={"Accept": "application/json"},
            timeout=30,
        ),
        200,
    )
    return answer


def verify_page(server: Server, certificate: str, **params: Any) -> str:
    response = httpx.get(
        f"{server.base}/verify/{certificate}",
        params=params,
        headers={"Accept": "text/html"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text


def log_size(server: Server) -> int:
    """How many records the ledger holds, once the log and every projection agree on it (a
    record saved is sequenced into the log and projected within a moment)."""
    previous = -1
    for _ in range(100):
        ready = ok(httpx.get(f"{server.base}/readyz", timeout=30), 200)
        positions = set(ready["projections"].values())
        size = int(ready["log_size"])
        if positions == {size} and size == previous:
            return size
        previous = size if positions == {size} else -1
        time.sleep(0.2)
    raise AssertionError("the log and the projections did not settle")


@dataclass
class Person:
    person_id: str
    name: str
    email: str
    organisation: str
    region: str
    country: str


@dataclass
class Foundation:
    """The Foundation's staff on one server: a registrar, a committee member who has no part in
    any case, and tutors (each bound to the person they are)."""

    server: Server
    registrar: httpx.Client
    committee: httpx.Client
    tutors: dict[str, httpx.Client] = field(default_factory=dict)

    @classmethod
    def on(cls, server: Server) -> Foundation:
        registrar = server.client(server.token("registrar", Role.REGISTRAR))
        member = post(
            registrar,
            "/v1/people",
            {
                "name": "Greta Committee",
                "email": "greta.committee@board.example.org",
                "organisation": "Foundation Board",
                "region": "Brussels",
                "country": "Belgium",
            },
        )["id"]
        committee = server.client(server.token("greta", Role.COMMITTEE, member))
        return cls(server, registrar, committee)

    def open_programme(self, title: str) -> str:
        """A programme whose six in-class weeks all lie in the past."""
        programme: str = post(
            self.registrar,
            "/v1/programmes",
            {
                "title": title,
                "starts_on": str(PROGRAMME_START),
                "ends_on": "2013-07-31",
                "material_version": "ECEI-2012",
            },
        )["id"]
        for number in range(1, WEEKS + 1):
            begins = week_start(number)
            post(
                self.registrar,
                f"/v1/programmes/{programme}/weeks",
                {
                    "number": number,
                    "starts_on": str(begins),
                    "ends_on": str(begins + timedelta(days=4)),
                    "place": "Barcelona" if number % 3 else "Linz",
                    "modules": [f"Module {number}"],
                },
            )
        return programme

    def register(
        self,
        name: str,
        email: str,
        organisation: str,
        region: str = "Cantabria",
        country: str = "Spain",
        *,
        confirm_duplicate: bool = False,
    ) -> Person:
        body: dict[str, Any] = {
            "name": name,
            "email": email,
            "organisation": organisation,
            "region": region,
            "country": country,
        }
        if confirm_duplicate:
            body["confirm_duplicate"] = True
        person_id = post(self.registrar, "/v1/people", body)["id"]
        return Person(person_id, name, email, organisation, region, country)

    def tutor(self, name: str, email: str) -> Person:
        """A tutor of the Foundation's faculty (an organisation no participant shares: R1)."""
        person = self.register(name, email, "Foundation Faculty", "Catalonia", "Spain")
        self.tutors[person.person_id] = self.server.client(
            self.server.token(f"tutor-{person.person_id}", Role.TUTOR, person.person_id)
        )
        return person

    def enrol(self, programme: str, person: str) -> None:
        post(self.registrar, f"/v1/programmes/{programme}/enrolments", {"person_id": person})

    def attendance(self, programme: str, week: int, entries: dict[str, bool]) -> Any:
        """A whole week's attendance in one request."""
        return post(
            self.registrar,
            f"/v1/programmes/{programme}/weeks/{week}/attendance",
            {"entries": [{"person_id": p, "attended": a} for p, a in entries.items()]},
        )

    def project(self, programme: str, initiative: str, tutor: str, members: list[str]) -> str:
        project: str = post(
            self.registrar,
            "/v1/projects",
            {
                "programme_id": programme,
                "cluster_initiative": initiative,
                "sector": initiative.split()[-1],
                "region": "Cantabria",
                "country": "Spain",
            },
        )["id"]
        post(self.registrar, f"/v1/projects/{project}/tutor", {"person_id": tutor})
        for member in members:
            post(self.registrar, f"/v1/projects/{project}/members", {"person_id": member})
        return project

    def sign_off(self, project: str, tutor: str, on: str = "2013-07-10") -> None:
        post(self.tutors[tutor], f"/v1/projects/{project}/sign-off", {"note": "", "on": on})

    def award(self, programme: str, person: str, on: str = "2013-07-20") -> str:
        certificate: str = post(
            self.committee,
            "/v1/qualifications",
            {"programme_id": programme, "person_id": person, "on": on},
        )["id"]
        return certificate

    def qualified(
        self,
        programme: str,
        person: Person,
        tutor: Person,
        initiative: str,
        absent: frozenset[int] = frozenset(),
    ) -> str:
        """`person` through the whole path to Associate Trainer, alone in a signed-off team
        (absent from the weeks named, as the register was first entered)."""
        self.enrol(programme, person.person_id)
        for week in range(1, WEEKS + 1):
            self.attendance(programme, week, {person.person_id: week not in absent})
        project = self.project(programme, initiative, tutor.person_id, [person.person_id])
        self.sign_off(project, tutor.person_id)
        return self.award(programme, person.person_id)

    def history_types(self, person: str) -> list[str]:
        return [e["type"] for e in get(self.registrar, f"/v1/trainers/{person}/history")["events"]]

    def roster_row(self, programme: str, person: str, **params: Any) -> dict[str, Any]:
        roster = get(self.registrar, f"/v1/programmes/{programme}/roster", **params)
        rows = [r for r in roster["participants"] if r["person_id"] == person]
        assert len(rows) == 1, roster
        row: dict[str, Any] = rows[0]
        return row
