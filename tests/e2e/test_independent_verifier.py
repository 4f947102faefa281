"""Verifiers we did not write accept our credentials: Digital Bazaar's `@digitalbazaar/vc` with
the `eddsa-rdfc-2022` cryptosuite and `@digitalbazaar/vc-bitstring-status-list`, from npm
(tests/independent/js, installed by `make test` with `npm ci`), run by node over what a real
ledger server publishes: each demo certificate's credential, the issuer's DID document and the
status list credentials they name, with the JSON-LD contexts from the W3C and 1EdTech copies in
tests/vectors. Their document loader is offline, so nothing reaches the network.

Digital Bazaar's `verifyCredential` checks the proof, the dates and the status list
credential's own proof, then reports the status bit without judging it; a relying party refuses
a credential whose `revocation` or `suspension` bit is set. verify.mjs does both and reports
each part (see its header).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import IN_CI, KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, free_port, server_env, start_server, stop_server

JS = ROOT / "tests" / "independent" / "js"
VECTORS = ROOT / "tests" / "vectors" / "vc"
CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}
RDFC_ONLY = [{"cryptosuite": "eddsa-rdfc-2022", "verified": True}]

Job = dict[str, Any]
Answer = dict[str, Any]


def node() -> str:
    """node, with Digital Bazaar's packages installed; under CI their absence is a failure."""
    found = shutil.which("node")
    problem = None
    if found is None:
        problem = "node is not installed"
    elif not (JS / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        problem = f"the npm packages are not installed: run `npm ci` in {JS.relative_to(ROOT)}"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"the independent verifier must run under CI: {problem}")
        pytest.skip(problem)
    assert found is not None
    return found


def run_verifier(jobs: list[Job]) -> list[list[Answer]]:
    """One node process for every job; each job's answers in the order of its credentials."""
    done = subprocess.run(
        [node(), str(JS / "verify.mjs")],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=JS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [job["results"] for job in json.loads(done.stdout)]


def contexts() -> dict[str, Any]:
    return {
        url: json.loads((VECTORS / "contexts" / name).read_text(encoding="utf-8"))
        for url, name in CONTEXTS.items()
    }


def test_the_harness_verifies_the_w3c_rdfc_vector_and_refuses_it_altered() -> None:
    """The check itself works: the W3C eddsa-rdfc-2022 vector (a did:key method, expanded
    offline) verifies, and the same credential with its name changed does not."""
    signed = json.loads(
        (VECTORS / "vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json").read_text()
    )
    altered = {**signed, "name": "Another Credential"}
    # The vector's issuer is not the key's controller: check the proof, not that VC rule.
    job = {"documents": contexts(), "issuerMustControlKey": False}
    plain = {"documents": contexts(), "credentials": [signed]}
    (vector, tampered), (strict,) = run_verifier([{**job, "credentials": [signed, altered]}, plain])
    assert vector["verified"] is True, vector["errors"]
    assert vector["proofs"] == RDFC_ONLY
    assert tampered["verified"] is False
    assert "Invalid signature." in tampered["errors"]
    assert strict["verified"] is False
    assert "Credential issuer must match the verification method controller." in strict["errors"]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A real server with the demo history, at the public URL its credentials name."""
    node()
    folder = tmp_path_factory.mktemp("independent")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    loaded = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=server_env(settings, LEDGER_PUBLIC_URL=base),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    certificates = json.loads(loaded.stdout)["certificates"]
    # Every demo credential is a fresh render: lift the per-client ration for this one reader.
    server = start_server(
        settings, port=port, LEDGER_PUBLIC_URL=base, LEDGER_RENDERS_PER_MINUTE="1000"
    )
    try:
        yield server, certificates
    finally:
        stop_server(server)


def fetch(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def publication(server: Server, certificate_ids: list[str]) -> Job:
    """What a verifier fetches from the ledger: the credentials, the DID document at its
    did:web address, each status list credential named, and the contexts."""
    with httpx.Client(base_url=server.base, timeout=60) as client:
        credentials = [fetch(client, f"/credentials/{c}") for c in certificate_ids]
        documents = contexts()
        documents[f"{server.base}/.well-known/did.json"] = fetch(client, "/.well-known/did.json")
        for credential in credentials:
            for entry in _listed(credential.get("credentialStatus")):
                url = entry["statusListCredential"]
                assert url.startswith(f"{server.base}/"), url
                if url not in documents:
                    documents[url] = fetch(client, url[len(server.base) :])
    return {"credentials": credentials, "documents": documents}


def _listed(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def test_digital_bazaars_verifier_accepts_the_valid_and_refuses_the_revoked_and_suspended(
    published: tuple[Server, dict[str, Any]],
) -> None:
    server, certificates = published
    valid: list[str] = certificates["valid"]
    (suspended,) = certificates["suspended"]
    (revoked,) = certificates["revoked"]
    (expired,) = certificates["expired"]
    ids = [*valid, suspended, revoked, expired]
    before = publication(server, ids)
    altered = json.loads(json.dumps(before["credentials"][0]))
    altered["credentialSubject"]["achievement"]["name"] = "Master Trainer"

    committee = server.client(server.token("independent", Role.COMMITTEE, str(uuid.uuid4())))
    reinstated = committee.post(
        f"/v1/licences/{suspended}/reinstatement",
        json={},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert reinstated.status_code == 201, reinstated.text
    after = publication(server, [suspended])

    answers, (again,) = run_verifier(
        [{**before, "credentials": [*before["credentials"], altered]}, after]
    )
    assert len(answers) == len(ids) + 1
    by_id = dict(zip(ids, answers[: len(ids)], strict=True))

    # Each credential is a proof set: the eddsa-rdfc-2022 proof this verifier reads, then an
    # eddsa-jcs-2022 proof that it skips without failing (every verdict below has it present).
    for credential in before["credentials"]:
        suites = [proof["cryptosuite"] for proof in credential["proof"]]
        assert suites == ["eddsa-rdfc-2022", "eddsa-jcs-2022"], credential["id"]

    assert {certificate[:2] for certificate in valid} == {"AT", "LT", "IC"}
    for certificate in valid:
        answer = by_id[certificate]
        assert answer["verified"] is True, (certificate, answer["errors"])
        assert answer["proofs"] == RDFC_ONLY, certificate
        assert answer["statusVerified"] is True
        assert [s["statusPurpose"] for s in answer["statuses"]] == ["suspension"]
        assert answer["statuses"][0]["set"] is False

    for certificate, why in ((suspended, "suspended"), (revoked, "suspended")):
        answer = by_id[certificate]
        assert answer["verified"] is False, certificate
        # Proof, dates and status list all check out: the set bit alone refuses it.
        assert answer["libraryVerified"] is True, (certificate, answer["errors"])
        assert answer["statusVerified"] is True
        assert answer["refused"] == why
        assert answer["statuses"][0]["set"] is True

    answer = by_id[expired]
    assert answer["verified"] is False
    assert any('after "validUntil"' in error for error in answer["errors"]), answer["errors"]

    forged = answers[len(ids)]
    assert forged["verified"] is False
    assert "Invalid signature." in forged["errors"]

    assert again["id"] == by_id[suspended]["id"]
    assert again["verified"] is True, again["errors"]
    assert again["statuses"][0]["set"] is False
