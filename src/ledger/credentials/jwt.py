"""The credential as a compact VC-JWT (JWS, EdDSA with Ed25519), the other proof format Open
Badges 3.0 accepts and the one many wallets read (OB 3.0, "JSON Web Token Proof Format").

JOSE header: `{"alg": "EdDSA", "typ": "JWT", "kid": <verification method>}`, no other member
(the specification allows no other). `kid` is the DID URL of the key in the issuer's DID
document (`/.well-known/did.json`), the same method as the credential's embedded proofs.

Payload: the credential's own members at the top level (the VC Data Model 2.0 form, no `vc`
wrapper) without `proof` (the specification lets a JWT-secured credential omit it, and the JWT
is then one self-contained proof rather than a proof wrapping another), plus the registered
claims: `iss` issuer id, `jti` credential id, `nbf` validFrom and `exp` validUntil (NumericDate),
and `sub` when the subject has an `id` (ours are identified by `identifier`, so have none).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "EdDSA"
TYP = "JWT"


class JwtError(ValueError):
    """A VC-JWT cannot be made from this credential, or does not verify: says which step."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise JwtError(f"not base64url: {exc}") from exc


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def numeric_date(text: str) -> int:
    """An XML Schema dateTime with its offset ("2014-03-03T00:00:00Z") as seconds since 1970."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise JwtError(f"{text!r} is not a date-time: {exc}") from exc
    if moment.tzinfo is None:
        raise JwtError(f"{text!r} has no time zone offset")
    return int(moment.timestamp())


def verification_method(credential: Mapping[str, Any]) -> str:
    """The verification method of the credential's proof (all proofs of a set must share it)."""
    proof = credential.get("proof")
    proofs = proof if isinstance(proof, list) else [proof] if proof is not None else []
    methods = {p.get("verificationMethod") for p in proofs if isinstance(p, Mapping)}
    if len(methods) != 1 or not all(isinstance(m, str) and m for m in methods):
        raise JwtError(f"the credential's proofs name {len(methods)} verification methods, not 1")
    return str(methods.pop())


def claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential without `proof`, plus iss, jti, nbf, exp (and sub)."""
    payload = {k: v for k, v in credential.items() if k != "proof"}
    issuer = credential.get("issuer")
    payload["iss"] = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    payload["jti"] = credential.get("id")
    if not payload["iss"] or not payload["jti"]:
        raise JwtError("the credential needs an issuer id and an id (claims iss and jti)")
    payload["nbf"] = numeric_date(str(credential.get("validFrom", "")))
    if credential.get("validUntil"):
        payload["exp"] = numeric_date(str(credential["validUntil"]))
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and subject.get("id"):
        payload["sub"] = subject["id"]
    return payload


def encode(credential: Mapping[str, Any], private_key: Ed25519PrivateKey) -> str:
    """The compact JWS of the credential, signed with the key of its proof's method."""
    header = {"alg": ALG, "typ": TYP, "kid": verification_method(credential)}
    signing_input = f"{_b64(_json(header))}.{_b64(_json(claims(credential)))}"
    return f"{signing_input}.{_b64(private_key.sign(signing_input.encode('ascii')))}"


def decode(token: str, public_key: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and payload of a compact JWS whose EdDSA signature `public_key` verifies."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwtError(f"a compact JWS has 3 parts, this one has {len(parts)}")
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
    except ValueError as exc:
        raise JwtError(f"the header or payload is not JSON: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JwtError("the header and the payload must be JSON objects")
    if header.get("alg") != ALG:
        raise JwtError(f"alg is {header.get('alg')!r}, expected {ALG!r}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            _unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii")
        )
    except (InvalidSignature, ValueError) as exc:
        raise JwtError("the JWS signature does not verify with the issuer's key") from exc
    return header, payload
