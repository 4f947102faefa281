"""The OpenAPI document is honest, checked against the real server.

Every operation states the roles it admits ("Roles: ..." and `x-roles`), and the server admits
exactly those roles' tokens. Every request body has an example, and each example, sent with the
ids of a small history in place of its placeholders, is accepted, or refused only by a domain
rule or the current state: never as malformed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from ledger.api.models import EXAMPLE_IDS
from ledger.config import Settings
from ledger.domain.actors import Role
from tests.e2e.conftest import Server, start_server, stop_server

PLACEHOLDER_PATH = {"certificate_id": "LT-0000-0000-001Y", "week": "1", "list_id": "1"}


@pytest.fixture
def lenient_server(settings: Settings) -> Iterator[Server]:
    """A server that does not rate-limit the deliberate refusals of the role matrix."""
    running = start_server(settings, LEDGER_AUTH_FAILURES_PER_MINUTE="100000")
    try:
        yield running
    finally:
        stop_server(running)


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def stated_line(roles: list[str]) -> str:
    return "Public: no token." if roles == ["public"] else f"Roles: {', '.join(roles)}."


def some_path(path: str) -> str:
    """The path with made-up values for its parameters (auth is checked before they are)."""
    return re.sub(r"{(\w+)}", lambda m: PLACEHOLDER_PATH.get(m.group(1), str(uuid.uuid4())), path)


def status_for(client: httpx.Client, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "post":
        return client.post(path, json={}, headers=headers).status_code
    return client.request(method.upper(), path, headers=headers).status_code


def test_every_operation_states_the_roles_the_server_admits(lenient_server: Server) -> None:
    server = lenient_server
    spec = httpx.get(f"{server.base}/openapi.json", timeout=30).json()
    tokens = {
        str(role): server.token(
            f"roles-{role}",
            role,
            str(uuid.uuid4()) if role in (Role.TUTOR, Role.COMMITTEE) else None,
        )
        for role in Role
    }
    wrong = []
    with httpx.Client(base_url=server.base, timeout=30) as client:
        for method, path, operation in operations(spec):
            stated = operation.get("x-roles")
            if not stated:
                wrong.append((method, path, "states no x-roles"))
                continue
            last = operation.get("description", "").splitlines()[-1:]
            if last != [stated_line(stated)]:
                wrong.append((method, path, f"description ends {last}, x-roles {stated}"))
            target = some_path(path)
            admitted = [
                role
                for role, token in tokens.items()
                if status_for(client, method, target, token) not in (401, 403)
            ]
            anonymous = status_for(client, method, target, None)
            if stated == ["public"]:
                if anonymous in (401, 403) or admitted != list(tokens):
                    wrong.append((method, path, f"public, yet {anonymous} without a token"))
            elif admitted != stated or anonymous != 401:
                wrong.append((method, path, f"states {stated}, admits {admitted}, {anonymous}"))
    assert wrong == []


# -- every request body's example, sent as documented ------------------------------------------


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    return ok(client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}))


@dataclass
class Case:
    """What an operation's example is sent with: the token, the path's values, and the real id
    for each placeholder of the example (`EXAMPLE_IDS`)."""

    path: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    token: str | None = None  # default: the first staff role the operation admits


class History:
    """A small ledger in which each example has something of its own to act on. Every date is
    fixed and past, as the examples' dates are, so the examples keep working as time passes."""

    def __init__(self, server: Server) -> None:
        self.registrar = server.client(server.token("registrar", Role.REGISTRAR))
        self.people: dict[str, str] = {}
        for label in ("C1", "C2", "T1", "T2"):
            self.register(label)
        self.tokens = {
            "admin": server.token("admin", Role.ADMIN),
            "registrar": server.token("registrar", Role.REGISTRAR),
            "committee": server.token("c1", Role.COMMITTEE, self.people["C1"]),
            "panel": server.token("c2", Role.COMMITTEE, self.people["C2"]),
            "tutor": server.token("t1", Role.TUTOR, self.people["T1"]),
        }
        self.committee = server.client(self.tokens["committee"])
        self.tutor = server.client(self.tokens["tutor"])

    def register(self, label: str) -> str:
        body = {
            "name": f"Example Person {label}",
            "email": f"example.{label.lower()}@example.org",
            "organisation": f"Example Agency {label}",
            "region": "Cantabria",
            "country": "Spain",
        }
        self.people[label] = post(self.registrar, "/v1/people", body)["id"]
        return self.people[label]

    def programme(self, title: str, starts_on: date, weeks: int) -> str:
        programme: str = post(
            self.registrar,
            "/v1/programmes",
            {
                "title": title,
                "starts_on": str(starts_on),
                "ends_on": str(starts_on + timedelta(weeks=26)),
                "material_version": "2023.1",
                "policy": {"tutors_record_attendance": 1},
            },
        )["id"]
        for number in range(1, weeks + 1):
            begins = starts_on + timedelta(weeks=4 * (number - 1))
            week = {"number": number, "starts_on": str(begins), "ends_on": str(begins)}
            post(
                self.registrar,
                f"/v1/programmes/{programme}/weeks",
                {**week, "place": "Bilbao", "modules": []},
            )
        return programme

    def project(self, programme: str, tutor: str | None, members: list[str]) -> str:
        body = {"cluster_initiative": "Example Cluster", "sector": "food"}
        project: str = post(
            self.registrar,
            "/v1/projects",
            {"programme_id": programme, **body, "region": "Cantabria", "country": "Spain"},
        )["id"]
        if tutor is not None:
            post(self.registrar, f"/v1/projects/{project}/tutor", {"person_id": self.people[tutor]})
        for member in members:
            post(
                self.registrar,
                f"/v1/projects/{project}/members",
                {"person_id": self.people[member]},
            )
        return project

    def course(self, person: str, on: str, *, full_programme: bool = False) -> str:
        delivery: str = post(
            self.registrar,
            f"/v1/people/{self.people[person]}/courses",
            {
                "delivered_on": on,
                "region": "Cantabria",
                "participants": 12,
                "full_programme": full_programme,
            },
        )["id"]
        return delivery

    def decide(self, path: str, body: dict[str, Any], client: httpx.Client | None = None) -> str:
        decided: str = post(client or self.committee, path, body)["id"]
        return decided

    def licence(self, qualification: str, on: str, regions: list[str] | None = None) -> str:
        return self.decide(
            "/v1/licences",
            {
                "qualification_id": qualification,
                "regions": regions or ["Cantabria"],
                "languages": ["es", "en"],
                "material_version": "2023.1",
                "on": on,
            },
        )


def build_cases(server: Server) -> tuple[dict[str, str], dict[tuple[str, str], Case]]:
    """The history, and for each operation whose example is sent, what it is sent with."""
    h = History(server)
    trainers = [f"A{n}" for n in range(1, 11)]
    others = [f"B{n}" for n in range(1, 15)] + ["D1", "D2", "E1"]
    for label in trainers + others:
        h.register(label)
    post(h.registrar, "/v1/materials", {"version": "2023.1", "title": "Handbook, 2023 edition"})
    programme = h.programme("Examples programme", date(2021, 1, 11), 6)
    empty = h.programme("Examples programme, weeks to schedule", date(2025, 1, 13), 0)
    enrolled = [*trainers, "B2", "B3", "B6", "B7", "B8", "B9", "B10", "B11", "B12", "B13"]
    post(
        h.registrar,
        f"/v1/programmes/{programme}/enrolments/batch",
        {"people": [{"person_id": h.people[p]} for p in enrolled]},
    )
    for week in range(1, 7):
        present = [*trainers, "B12", "B13", *(["B8"] if week == 1 else [])]
        post(
            h.registrar,
            f"/v1/programmes/{programme}/weeks/{week}/attendance",
            {"entries": [{"person_id": h.people[p], "attended": True} for p in present]},
        )
    teams = [["A1", "A2", "A3"], ["A4", "A5", "A6"], ["A7", "A8", "A9"], ["A10", "B13"], ["B12"]]
    signed = [h.project(programme, "T1", team) for team in teams]
    for project in signed:
        post(h.tutor, f"/v1/projects/{project}/sign-off", {"on": "2021-07-12"})
    awarded = {
        p: h.decide(
            "/v1/qualifications",
            {"programme_id": programme, "person_id": h.people[p], "on": "2021-07-20"},
        )
        for p in trainers
    }
    for person in trainers:
        h.course(person, "2021-09-01")
    h.course("A3", "2024-01-15")
    h.course("A3", "2024-06-15")
    h.course("A4", "2024-06-01", full_programme=True)
    h.course("A9", "2023-09-01", full_programme=True)
    licences = {
        "A2": h.licence(awarded["A2"], "2024-01-10"),
        "A3": h.licence(awarded["A3"], "2023-06-01"),
        "A4": h.licence(awarded["A4"], "2024-01-10"),
        "A5": h.licence(awarded["A5"], "2024-01-10", ["Cantabria", "Asturias"]),
        "A6": h.licence(awarded["A6"], "2024-01-10"),
        "A7": h.licence(awarded["A7"], "2025-03-14"),
        "A8": h.licence(awarded["A8"], "2024-01-10"),
        "A9": h.licence(awarded["A9"], "2023-06-01"),
        "A10": h.licence(awarded["A10"], "2025-03-14"),
    }
    h.decide(
        f"/v1/licences/{licences['A8']}/suspension",
        {"reason": "complaint", "on": "2025-01-10", "until": "2025-05-01"},
    )
    instructor = h.decide(
        "/v1/instructor-certifications", {"licence_id": licences["A9"], "on": "2024-06-03"}
    )
    appeal = post(
        h.registrar,
        "/v1/appeals",
        {
            "certificate_id": licences["A10"],
            "decision_version": 1,
            "grounds": "a course was not counted",
            "on": "2025-03-20",
        },
    )["id"]
    retracted = h.course("B14", "2024-05-01")
    PM, PT, PS, PR = (
        h.project(programme, "T1", []),
        h.project(programme, None, []),
        h.project(programme, "T1", ["B10"]),
        h.project(programme, "T1", ["B11"]),
    )
    p = h.people
    v1 = "/v1"
    cases = {
        f"{v1}/materials": Case({}),
        f"{v1}/programmes": Case({}),
        f"{v1}/programmes/{{programme_id}}/weeks": Case({"programme_id": empty}),
        f"{v1}/people": Case({}),
        f"{v1}/people/{{person_id}}/courses": Case({"person_id": p["B1"]}),
        f"{v1}/people/{{person_id}}/name-visibility": Case({"person_id": p["B1"]}),
        f"{v1}/people/{{person_id}}/public-listing": Case({"person_id": p["B1"]}),
        f"{v1}/people/{{person_id}}/erasure": Case({"person_id": p["E1"]}),
        f"{v1}/programmes/{{programme_id}}/enrolments": Case(
            {"programme_id": programme}, {"person": p["B1"]}
        ),
        f"{v1}/programmes/{{programme_id}}/enrolments/{{person_id}}/withdrawal": Case(
            {"programme_id": programme, "person_id": p["B2"]}
        ),
        f"{v1}/programmes/{{programme_id}}/enrolments/{{person_id}}/attendance": Case(
            {"programme_id": programme, "person_id": p["B3"]}
        ),
        f"{v1}/projects": Case({}, {"programme": programme}),
        f"{v1}/projects/{{project_id}}/members": Case({"project_id": PM}, {"person": p["B9"]}),
        f"{v1}/projects/{{project_id}}/tutor": Case({"project_id": PT}, {"person": p["T2"]}),
        f"{v1}/projects/{{project_id}}/sign-off": Case({"project_id": PS}, token="tutor"),
        f"{v1}/projects/{{project_id}}/return": Case({"project_id": PR}, token="tutor"),
        f"{v1}/qualifications": Case({}, {"programme": programme, "person": p["B13"]}),
        f"{v1}/licences": Case({}, {"qualification": awarded["A1"]}),
        f"{v1}/licences/{{certificate_id}}/renewal": Case({"certificate_id": licences["A3"]}),
        f"{v1}/licences/{{certificate_id}}/suspension": Case({"certificate_id": licences["A2"]}),
        f"{v1}/licences/{{certificate_id}}/reinstatement": Case({"certificate_id": licences["A8"]}),
        f"{v1}/licences/{{certificate_id}}/scope-reduction": Case(
            {"certificate_id": licences["A5"]}
        ),
        f"{v1}/licences/{{certificate_id}}/revocation": Case({"certificate_id": licences["A6"]}),
        f"{v1}/instructor-certifications": Case({}, {"licence": licences["A4"]}),
        f"{v1}/instructor-certifications/{{certificate_id}}/renewal": Case(
            {"certificate_id": instructor}
        ),
        f"{v1}/instructor-certifications/{{certificate_id}}/revocation": Case(
            {"certificate_id": instructor}
        ),
        f"{v1}/appeals": Case({}, {"licence": licences["A7"]}),
        f"{v1}/appeals/{{appeal_id}}/decision": Case({"appeal_id": appeal}, token="panel"),
        f"{v1}/programmes/{{programme_id}}/enrolments/batch": Case(
            {"programme_id": programme}, {"person": p["B4"], "kept_person": p["B5"]}
        ),
        f"{v1}/programmes/{{programme_id}}/weeks/{{week}}/attendance": Case(
            {"programme_id": programme, "week": "1"}, {"person": p["B6"], "kept_person": p["B7"]}
        ),
        f"{v1}/programmes/{{programme_id}}/enrolments/{{person_id}}/attendance/{{week}}/correction": (
            Case({"programme_id": programme, "person_id": p["B8"], "week": "1"})
        ),
        f"{v1}/people/{{person_id}}/courses/{{delivery_id}}/retraction": Case(
            {"person_id": p["B14"], "delivery_id": retracted}
        ),
        f"{v1}/projects/{{project_id}}/sign-off/withdrawal": Case({"project_id": signed[-1]}),
        f"{v1}/people/{{person_id}}/duplicate-of": Case(
            {"person_id": p["D1"]}, {"kept_person": p["D2"]}
        ),
        f"{v1}/imports/{{kind}}": Case({"kind": "people"}),
    }
    return h.tokens, {("post", path): case for path, case in cases.items()}


def documented_body(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[str, Any] | None:
    """The media type and example of an operation's request body (None: it takes no body)."""
    body = operation.get("requestBody")
    if body is None:
        return None
    media, content = next(iter(body["content"].items()))
    if "example" in content:
        return media, content["example"]
    if content.get("examples"):
        return media, next(iter(content["examples"].values()))["value"]
    schema = content.get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = schema.get("examples") or [None]
    return media, examples[0]


def with_ids(value: Any, ids: dict[str, str]) -> Any:
    """The example with the real id in place of each placeholder."""
    placeholders = {v: k for k, v in EXAMPLE_IDS.items()}
    if isinstance(value, dict):
        return {k: with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [with_ids(v, ids) for v in value]
    if isinstance(value, str) and value in placeholders:
        return ids[placeholders[value]]
    if isinstance(value, str):
        for placeholder, name in placeholders.items():
            if placeholder in value:
                value = value.replace(placeholder, ids[name])
    return value


def token_for(case: Case, roles: list[str], tokens: dict[str, str]) -> str:
    if case.token is not None:
        return tokens[case.token]
    for role in ("registrar", "committee", "tutor", "admin"):
        if role in roles:
            return tokens[role]
    raise AssertionError(f"no staff token for roles {roles}")


def domain_refusal(answer: httpx.Response) -> bool:
    """Refused by a rule or by the current state, not as malformed input."""
    if answer.status_code == 409:
        return True
    return answer.status_code == 422 and bool(answer.json().get("rule"))


def test_every_request_body_example_is_accepted_as_documented(server: Server) -> None:
    tokens, cases = build_cases(server)
    spec = httpx.get(f"{server.base}/openapi.json", timeout=30).json()
    outcomes: dict[tuple[str, str], tuple[int, str]] = {}
    missing = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for method, path, operation in operations(spec):
            documented = documented_body(spec, operation)
            if documented is None:
                continue
            media, example = documented
            if example is None:
                missing.append(path)
                continue
            case = cases.get((method, path)) or Case({})
            target = path.format(**case.path)
            token = token_for(case, operation["x-roles"], tokens)
            body = with_ids(example, case.ids)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": media}
            content = json.dumps(body) if media == "application/json" else str(body)
            answer = client.request(method, target, content=content.encode(), headers=headers)
            known = (method, path) in cases
            accepted = answer.status_code < 300 or (not known and domain_refusal(answer))
            if answer.status_code < 300 and "positions" in answer.json():
                accepted = accepted and bool(answer.json()["positions"])  # it changed something
            outcomes[(method, path)] = (answer.status_code, "" if accepted else answer.text)
    assert missing == []
    assert {op: outcome for op, outcome in outcomes.items() if outcome[1]} == {}
    assert set(cases) <= set(outcomes)
