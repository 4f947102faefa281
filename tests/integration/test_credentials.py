"""Our credentials: the proof set verifies, any change fails, and revoked, suspended and expired
credentials each fail with the right reason, read from saved status lists. A standard Bitstring
Status List reading (written here from the specification, with no ledger code) refuses a revoked
and a suspended licence and accepts a reinstated one again."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from ledger.credentials.service import Credentials
from ledger.credentials.verifier import verify_credential
from ledger.runtime import Runtime
from tests.builders import COMMITTEE, licensed

Lists = dict[str, dict[str, Any]]


def issue(
    runtime: Runtime, certificate: str, on: date | None = None
) -> tuple[Credentials, dict[str, Any], dict[str, Any], Lists]:
    """The credential, the DID document, and both status lists as published on `on`."""
    runtime.runner.catch_up()
    credentials = Credentials(runtime)
    credential = credentials.credential(certificate)
    assert credential is not None
    lists = credentials.status_lists(1, on)
    return credentials, credential, credentials.issuer.did_document(), lists


def standard_reading(credential: Mapping[str, Any], lists: Mapping[str, Any], on: date) -> str:
    """What a generic verifier that knows VC 2.0 and Bitstring Status List 1.0 (and nothing of
    this ledger) concludes: `accepted`, or why it refuses. Proofs are checked elsewhere."""
    valid_until = credential.get("validUntil")
    if valid_until is not None and on.isoformat() > valid_until[:10]:
        return "refused: validUntil has passed"
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict), "one credentialStatus object"
    listed = lists[entry["statusListCredential"]]
    subject = listed["credentialSubject"]
    assert "BitstringStatusListCredential" in listed["type"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == entry["statusPurpose"]
    encoded = subject["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, no padding
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) * 8 >= 131_072  # the specification's minimum: herd privacy
    size = int(entry.get("statusSize", 1))
    index = int(entry["statusListIndex"]) * size
    value = 0
    for bit in range(index, index + size):
        value = (value << 1) | ((raw[bit // 8] >> (7 - bit % 8)) & 1)
    if entry["statusPurpose"] in ("revocation", "suspension") and value:
        return f"refused: {entry['statusPurpose']} bit set"
    return "accepted"  # any other purpose is only informative to a standard verifier


def test_a_licence_credential_carries_the_proof_set_and_a_suspension_entry(
    runtime: Runtime,
) -> None:
    _, licence = licensed(runtime.service)
    _, credential, did, lists = issue(runtime, licence)
    assert credential["issuer"] == {
        "id": "did:web:127.0.0.1%3A8000",
        "type": ["Profile"],
        "name": "European Foundation for Cluster Excellence",
        "url": "http://127.0.0.1:8000",
    }
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "License"
    assert achievement["image"] == {
        "id": "http://127.0.0.1:8000/achievements/licence/badge.png",
        "type": "Image",
        "caption": "Licensed Trainer in Cluster Management Excellence",
    }
    proofs = credential["proof"]
    assert [p["cryptosuite"] for p in proofs] == ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
    assert len({(p["created"], p["verificationMethod"]) for p in proofs}) == 1
    status = credential["credentialStatus"]
    assert status["statusPurpose"] == "suspension"
    assert status["statusListCredential"] == "http://127.0.0.1:8000/status-lists/suspension/1"
    assert status["id"] == f"{status['statusListCredential']}#{status['statusListIndex']}"
    assert "statusSize" not in status  # one bit, the default
    for listed in lists.values():
        assert [p["cryptosuite"] for p in listed["proof"]] == ["eddsa-rdfc-2022", "eddsa-jcs-2022"]

    verdict = verify_credential(credential, did, lists, date(2015, 1, 1))
    assert verdict.ok, verdict.lines()
    assert verdict.status == "valid"
    assert verdict.lines()[0] == (
        "PASS proof: eddsa-rdfc-2022 and eddsa-jcs-2022 signatures by the issuer's key verify"
    )
    assert verdict.lines()[-1].startswith("PASS status: valid (suspension list ")
    assert standard_reading(credential, lists, date(2015, 1, 1)) == "accepted"


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
    for dropped in (0, 1):  # each proof of the set is checked, neither alone is enough to forge
        changed = json.loads(json.dumps(credential))
        changed["proof"][dropped]["proofValue"] = credential["proof"][1 - dropped]["proofValue"]
        assert not verify_credential(changed, did, lists, date(2015, 1, 1)).ok
    only_jcs = {**credential, "proof": [credential["proof"][1]]}
    assert verify_credential(only_jcs, did, lists, date(2015, 1, 1)).lines()[0] == (
        "FAIL proof: the proof set has no eddsa-rdfc-2022 proof"
    )


def test_a_changed_status_list_fails_the_status_check(runtime: Runtime) -> None:
    _, licence = licensed(runtime.service)
    _, credential, did, lists = issue(runtime, licence)
    url = credential["credentialStatus"]["statusListCredential"]
    forged = json.loads(json.dumps(lists))
    forged[url]["credentialSubject"]["statusPurpose"] = "message"
    verdict = verify_credential(credential, did, forged, date(2015, 1, 1))
    assert verdict.lines()[-1].startswith(f"FAIL status: status list {url} does not verify")
    missing = verify_credential(credential, did, {}, date(2015, 1, 1))
    assert missing.lines()[-1] == f"FAIL status: no saved status list {url}"


def test_standard_readings_refuse_suspended_and_revoked_and_accept_a_reinstated_licence(
    runtime: Runtime,
) -> None:
    service = runtime.service
    _, licence = licensed(service)
    _, credential, did, lists = issue(runtime, licence)
    expired = verify_credential(credential, did, lists, date(2016, 3, 3))
    assert (expired.ok, expired.status) == (False, "expired")
    assert expired.lines()[-1] == "FAIL validity: expired: valid until 2016-03-02"
    assert standard_reading(credential, lists, date(2016, 3, 3)) == (
        "refused: validUntil has passed"
    )

    service.suspend_licence(
        COMMITTEE, licence, "complaint", date(2015, 4, 10), on=date(2015, 1, 10)
    )
    _, credential, did, lists = issue(runtime, licence, on=date(2015, 2, 1))
    assert standard_reading(credential, lists, date(2015, 2, 1)) == "refused: suspension bit set"
    suspended = verify_credential(credential, did, lists, date(2015, 2, 1))
    assert (suspended.ok, suspended.status) == (False, "suspended")
    assert suspended.lines()[-1].startswith("FAIL status: suspended (suspension list ")
    assert suspended.lines()[-1].endswith("/status-lists/message/1 says suspended)")
    url = credential["credentialStatus"]["statusListCredential"]
    alone = verify_credential(credential, did, {url: lists[url]}, date(2015, 2, 1))
    assert (alone.ok, alone.status) == (False, "suspended or revoked")

    service.reinstate_licence(COMMITTEE, licence, on=date(2015, 2, 15))
    _, credential, did, lists = issue(runtime, licence, on=date(2015, 3, 1))
    assert standard_reading(credential, lists, date(2015, 3, 1)) == "accepted"
    reinstated = verify_credential(credential, did, lists, date(2015, 3, 1))
    assert (reinstated.ok, reinstated.status) == (True, "valid"), reinstated.lines()

    service.revoke_licence(COMMITTEE, licence, "misconduct", on=date(2015, 5, 25))
    _, credential, did, lists = issue(runtime, licence, on=date(2015, 6, 1))
    assert standard_reading(credential, lists, date(2015, 6, 1)) == "refused: suspension bit set"
    revoked = verify_credential(credential, did, lists, date(2015, 6, 1))
    assert (revoked.ok, revoked.status) == (False, "revoked")
    assert revoked.lines()[-1].startswith("FAIL status: revoked")
    alone = verify_credential(credential, did, {url: lists[url]}, date(2015, 6, 1))
    assert (alone.ok, alone.status) == (False, "suspended or revoked")
    # a revoked licence stays refused: its bit never clears, whatever the list's date
    _, _, _, later = issue(runtime, licence, on=date(2015, 12, 1))
    assert standard_reading(credential, later, date(2015, 12, 1)) == "refused: suspension bit set"
