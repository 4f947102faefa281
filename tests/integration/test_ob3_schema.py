"""Every credential of the demo (Associate Trainer, valid, reinstated, expired, suspended and
revoked licences, the Instructor Certification) validates against 1EdTech's official Open Badges
3.0 AchievementCredential JSON Schema, and its issuer against the Profile schema, with format
assertions on (draft 2019-09): zero errors. And each one's single status entry, read the
standard way from the list it names, refuses exactly the suspended and the revoked ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator

from ledger.clock import ManualClock
from ledger.credentials.service import Credentials
from ledger.demo import load_demo
from ledger.runtime import open_runtime
from tests.conftest import make_settings
from tests.integration.test_credentials import standard_reading

SCHEMAS = Path(__file__).resolve().parents[1] / "vectors" / "ob3"
TODAY = date(2026, 11, 28)


def validator(name: str) -> Draft201909Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def errors(found: Draft201909Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in found.iter_errors(instance)
    ]


@dataclass
class Demo:
    credentials: dict[str, dict[str, Any]]  # certificate id -> signed credential
    states: dict[str, list[str]]  # state -> certificate ids (kinds split out of "valid")
    lists: dict[str, dict[str, Any]]  # status list URL -> signed status list credential


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Demo]:
    """The demo loaded once (SQLite: the schema does not depend on the backend), with the
    credential of every certificate it made and the status lists they name, as of TODAY."""
    settings = make_settings("sqlite", tmp_path_factory.mktemp("ob3"), request)
    clock = ManualClock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))
    runtime = open_runtime(settings, clock=clock)
    try:
        result = load_demo(runtime.service, TODAY)
        runtime.catch_up()
        service = Credentials(runtime)
        states: dict[str, list[str]] = {
            state: list(ids) for state, ids in result.certificates.items() if state != "valid"
        }
        for certificate in result.certificates["valid"]:
            facts = runtime.queries.certificate_facts(certificate)
            assert facts is not None
            if facts["kind"] != "licence":
                state = facts["kind"]
            elif facts["suspensions"]:
                state = "reinstated"
            else:
                state = "valid licence"
            states.setdefault(state, []).append(certificate)
        ids = [c for found in states.values() for c in found]
        credentials = {c: service.credential(c) for c in ids}
        list_ids = {service.entries.entry(c).list_id for c in ids}
        lists = {url: found for i in list_ids for url, found in service.status_lists(i).items()}
        yield Demo({c: v for c, v in credentials.items() if v is not None}, states, lists)
    finally:
        runtime.close()


STATES = [
    "associate_trainer",
    "valid licence",
    "reinstated",
    "instructor",
    "expired",
    "suspended",
    "revoked",
]


def test_the_demo_has_a_certificate_in_every_state(demo: Demo) -> None:
    assert all(demo.states.get(state) for state in STATES), {
        s: len(c) for s, c in demo.states.items()
    }
    assert set(demo.states) == set(STATES)
    assert len(demo.credentials) == sum(len(c) for c in demo.states.values())


@pytest.mark.parametrize("state", STATES)
def test_every_demo_credential_validates_against_the_ob3_schemas(demo: Demo, state: str) -> None:
    credential_schema = validator("achievementcredential.json")
    profile_schema = validator("profile.json")
    for certificate in demo.states[state]:
        credential = demo.credentials[certificate]
        assert errors(credential_schema, credential) == [], certificate
        assert errors(profile_schema, credential["issuer"]) == [], certificate
        assert "OpenBadgeCredential" in credential["type"]
        assert isinstance(credential["proof"], list)


def test_the_format_checker_really_checks_dates_and_the_schema_the_proof_array(
    demo: Demo,
) -> None:
    """Without these failures a zero-error result would prove nothing."""
    schema = validator("achievementcredential.json")
    credential = next(iter(demo.credentials.values()))
    bad_date = {**credential, "validFrom": "2026-02-30T25:00:00Z"}
    assert [e.validator for e in schema.iter_errors(bad_date)] == ["format"]
    bad_until = {**credential, "validUntil": "31 December 2026"}
    assert [e.validator for e in schema.iter_errors(bad_until)] == ["format"]
    single_proof = {**credential, "proof": credential["proof"][0]}  # the old, single proof
    assert [e.validator for e in schema.iter_errors(single_proof)] == ["type"]
    no_profile = {**credential["issuer"], "type": "Issuer"}
    assert errors(validator("profile.json"), no_profile) != []


EXPECTED = {
    "associate_trainer": "accepted",
    "valid licence": "accepted",
    "reinstated": "accepted",
    "instructor": "accepted",
    "expired": "refused: validUntil has passed",
    "suspended": "refused: suspension bit set",
    "revoked": "refused: suspension bit set",
}


def test_a_standard_status_reading_refuses_exactly_the_suspended_and_revoked(demo: Demo) -> None:
    for state, certificates in demo.states.items():
        for certificate in certificates:
            credential = demo.credentials[certificate]
            assert credential["credentialStatus"]["statusPurpose"] == "suspension"
            answer = standard_reading(credential, demo.lists, TODAY)
            assert answer == EXPECTED[state], (state, certificate)
