"""Our credentials: the proof verifies, any change fails, and revoked, suspended and expired
credentials each fail with the right reason, read from a saved status list."""

from __future__ import annotations

import json
from datetime import date

from ledger.credentials.service import Credentials
from ledger.credentials.verifier import verify_credential
from ledger.runtime import Runtime
from tests.builders import COMMITTEE, licensed


def issue(
    runtime: Runtime, certificate: str, on: date | None = None
) -> tuple[Credentials, dict, dict, dict]:  # type: ignore[type-arg]
    runtime.runner.catch_up()
    credentials = Credentials(runtime)
    credential = credentials.credential(certificate)
    assert credential is not None
    url = credential["credentialStatus"]["statusListCredential"]
    lists = {url: credentials.status_list(1, on)}  # the list as published on `on`
    return credentials, credential, credentials.issuer.did_document(), lists


def test_a_licence_credential_verifies_offline_as_valid(runtime: Runtime) -> None:
    _, licence = licensed(runtime.service)
    _, credential, did, lists = issue(runtime, licence)
    assert credential["issuer"]["id"] == "did:web:127.0.0.1%3A8000"
    assert credential["credentialSubject"]["achievement"]["achievementType"] == "License"
    assert credential["credentialStatus"]["statusPurpose"] == "message"
    verdict = verify_credential(credential, did, lists, date(2015, 1, 1))
    assert verdict.ok, verdict.lines()
    assert verdict.status == "valid"


def test_changing_any_field_of_our_credential_fails_the_proof(runtime: Runtime) -> None:
    _, licence = licensed(runtime.service)
    _, credential, did, lists = issue(runtime, licence)
    for field in [k for k in credential if k != "proof"]:
        changed = json.loads(json.dumps(credential))
        changed[field] = "tampered"
        verdict = verify_credential(changed, did, lists, date(2015, 1, 1))
        assert not verdict.ok
        assert verdict.checks[0][0] == "proof"
    changed = json.loads(json.dumps(credential))
    changed["credentialSubject"]["achievement"]["name"] = "Grand Master"
    assert (
        verify_credential(changed, did, lists, date(2015, 1, 1)).lines()[0].startswith("FAIL proof")
    )


def test_suspended_revoked_and_expired_credentials_fail_with_their_reason(runtime: Runtime) -> None:
    service = runtime.service
    _, licence = licensed(service)
    _, credential, did, lists = issue(runtime, licence)
    expired = verify_credential(credential, did, lists, date(2016, 3, 3))
    assert (expired.ok, expired.status) == (False, "expired")
    assert expired.lines()[-1] == "FAIL validity: expired: valid until 2016-03-02"

    service.suspend_licence(
        COMMITTEE, licence, "complaint", date(2015, 4, 10), on=date(2015, 1, 10)
    )
    _, credential, did, lists = issue(runtime, licence, on=date(2015, 2, 1))
    suspended = verify_credential(credential, did, lists, date(2015, 2, 1))
    assert (suspended.ok, suspended.status) == (False, "suspended")
    assert suspended.lines()[-1].startswith("FAIL status: suspended")

    service.revoke_licence(COMMITTEE, licence, "misconduct", on=date(2015, 5, 25))
    _, credential, did, lists = issue(runtime, licence, on=date(2015, 6, 1))
    revoked = verify_credential(credential, did, lists, date(2015, 6, 1))
    assert (revoked.ok, revoked.status) == (False, "revoked")
    assert revoked.lines()[-1].startswith("FAIL status: revoked")
