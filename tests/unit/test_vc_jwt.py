"""The credential as a compact VC-JWT, checked with an independent JOSE library (joserfc)
against the key published in the issuer's DID document."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

from ledger.credentials import jwt
from ledger.credentials.service import Credentials
from ledger.runtime import Runtime
from tests.builders import licensed

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# joserfc marks "EdDSA" deprecated (RFC 9864 prefers "Ed25519"), so it must be asked for; Open
# Badges 3.0 and the wallets that read VC-JWTs know "EdDSA".
EDDSA = JWSRegistry(algorithms=["EdDSA"])
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the JWT is made from the credential; one backend shows it


def base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + BASE58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def jwk_of(did_document: dict[str, Any], kid: str) -> OKPKey:
    """The OKP JWK of a Multikey in the DID document (multibase z, multicodec 0xed01)."""
    method = next(m for m in did_document["verificationMethod"] if m["id"] == kid)
    assert method["type"] == "Multikey"
    assert kid in did_document["assertionMethod"]
    multikey = method["publicKeyMultibase"]
    assert multikey.startswith("z")
    raw = base58_decode(multikey[1:])
    assert raw[:2] == b"\xed\x01"
    assert len(raw) == 34
    x = base64.urlsafe_b64encode(raw[2:]).rstrip(b"=").decode()
    return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x})


def epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def issued(runtime: Runtime) -> tuple[dict[str, Any], dict[str, Any], str]:
    _, licence = licensed(runtime.service)
    runtime.runner.catch_up()
    credentials = Credentials(runtime)
    credential = credentials.credential(licence)
    assert credential is not None
    signer = runtime.store.signing.signer_at(runtime.clock.now())
    return credential, credentials.issuer.did_document(), jwt.encode(credential, signer.private_key)


def first_proof(credential: dict[str, Any]) -> dict[str, Any]:
    proof = credential["proof"]
    return dict(proof[0] if isinstance(proof, list) else proof)


def test_the_jwt_verifies_with_the_key_of_the_did_document(runtime: Runtime) -> None:
    credential, did, token = issued(runtime)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    decoded = jose_jwt.decode(token, jwk_of(did, header["kid"]), registry=EDDSA)
    assert decoded.header == {
        "alg": "EdDSA",
        "typ": "JWT",
        "kid": first_proof(credential)["verificationMethod"],
    }
    assert decoded.header["kid"].startswith(did["id"] + "#")


def test_the_claims_are_the_credential_with_iss_jti_nbf_and_exp(runtime: Runtime) -> None:
    credential, did, token = issued(runtime)
    kid = first_proof(credential)["verificationMethod"]
    claims = jose_jwt.decode(token, jwk_of(did, kid), registry=EDDSA).claims
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    assert claims == {
        **unsecured,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": epoch(credential["validFrom"]),
        "exp": epoch(credential["validUntil"]),
    }
    assert "proof" not in claims
    assert "vc" not in claims
    assert "sub" not in claims
    assert datetime.fromtimestamp(claims["nbf"], UTC).isoformat() == "2014-03-03T00:00:00+00:00"


def test_joserfc_checks_the_validity_window_from_nbf_and_exp(runtime: Runtime) -> None:
    credential, did, token = issued(runtime)
    claims = jose_jwt.decode(
        token, jwk_of(did, first_proof(credential)["verificationMethod"]), registry=EDDSA
    ).claims
    registry = jose_jwt.JWTClaimsRegistry(
        now=epoch("2015-01-01T00:00:00Z"), iss={"essential": True, "value": did["id"]}
    )
    registry.validate(claims)
    with pytest.raises(ExpiredTokenError):
        jose_jwt.JWTClaimsRegistry(now=epoch("2016-03-03T00:00:01Z")).validate(claims)


def test_a_changed_payload_or_another_key_does_not_verify(runtime: Runtime) -> None:
    credential, did, token = issued(runtime)
    key = jwk_of(did, first_proof(credential)["verificationMethod"])
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["achievement"]["name"] = "Grand Master"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(f"{head}.{forged}.{signature}", key, registry=EDDSA)
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(token, OKPKey.generate_key("Ed25519"), registry=EDDSA)
    public = runtime.store.signing.signer_at(runtime.clock.now()).public_key
    assert jwt.decode(token, public)[1] == jwt.claims(credential)  # our own reading agrees
    with pytest.raises(jwt.JwtError, match="does not verify"):
        jwt.decode(f"{head}.{forged}.{signature}", public)


def test_the_kid_is_the_one_method_of_a_proof_set_or_single_proof() -> None:
    proof = {"type": "DataIntegrityProof", "verificationMethod": "did:web:example.org#k1"}
    assert jwt.verification_method({"proof": proof}) == "did:web:example.org#k1"
    assert jwt.verification_method({"proof": [proof, dict(proof)]}) == "did:web:example.org#k1"
    with pytest.raises(jwt.JwtError, match="2 verification methods"):
        jwt.verification_method(
            {"proof": [proof, {**proof, "verificationMethod": "did:web:example.org#k2"}]}
        )
    with pytest.raises(jwt.JwtError, match="0 verification methods"):
        jwt.verification_method({})


def test_a_credential_without_validuntil_has_no_exp_and_a_subject_id_becomes_sub() -> None:
    claims = jwt.claims(
        {
            "id": "https://example.org/credentials/1",
            "issuer": "did:web:example.org",
            "validFrom": "2020-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:holder"},
            "proof": {},
        }
    )
    assert claims["iss"] == "did:web:example.org"
    assert claims["nbf"] == epoch("2020-01-01T00:00:00Z")
    assert claims["sub"] == "did:example:holder"
    assert "exp" not in claims
    assert "proof" not in claims
    with pytest.raises(jwt.JwtError, match="no time zone"):
        jwt.claims({"id": "x", "issuer": "y", "validFrom": "2020-01-01T00:00:00"})
