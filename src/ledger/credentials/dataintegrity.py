"""W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (VC DI EdDSA v1.0, 3.3).

Transformation: RFC 8785 canonical JSON of the document without its proof. Proof configuration:
the proof options without `proofValue`, with the document's `@context`, canonicalised the same
way. Hash data: SHA-256(proof configuration) || SHA-256(transformed document), 64 bytes. The
proof value is `z` + base58btc of the Ed25519 signature over the hash data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.credentials.multibase import MultibaseError, decode, encode
from ledger.integrity.canonical import CanonicalError, canonical_bytes

CRYPTOSUITE = "eddsa-jcs-2022"


class ProofError(ValueError):
    """A Data Integrity proof does not verify: says which step failed."""


def hash_data(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    if "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    try:
        transformed = canonical_bytes(unsecured)
        configuration = canonical_bytes(options)
    except CanonicalError as exc:
        raise ProofError(f"document cannot be canonicalised: {exc}") from exc
    return hashlib.sha256(configuration).digest() + hashlib.sha256(transformed).digest()


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """The document with an `eddsa-jcs-2022` DataIntegrityProof."""
    options: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in document:
        options["@context"] = document["@context"]  # the proof configuration keeps it
    signature = private_key.sign(hash_data(document, options))
    secured = {k: v for k, v in document.items() if k != "proof"}
    secured["proof"] = {**options, "proofValue": encode(signature, "z")}
    return secured


def verify_proof(document: Mapping[str, Any], public_key: bytes) -> dict[str, Any]:
    """Verify the document's single eddsa-jcs-2022 proof; return the proof. Raises ProofError."""
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise ProofError("the document has no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"proof is not a DataIntegrityProof with cryptosuite {CRYPTOSUITE}")
    context = proof.get("@context")
    if context is not None and context != document.get("@context"):
        raise ProofError("the proof's @context differs from the document's")
    try:
        signature = decode(str(proof.get("proofValue", "")))
    except MultibaseError as exc:
        raise ProofError(f"proofValue is not multibase: {exc}") from exc
    if not str(proof.get("proofValue", "")).startswith("z") or len(signature) != 64:
        raise ProofError("proofValue is not a base58btc Ed25519 signature")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, hash_data(document, proof))
    except InvalidSignature as exc:
        raise ProofError("the proof's signature does not verify: the document was changed") from exc
    return dict(proof)
