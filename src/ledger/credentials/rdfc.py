"""W3C Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (VC DI EdDSA v1.0, 3.2).

The Open Badges 3.0 conformance guide accepts this suite for an embedded proof (not
`eddsa-jcs-2022`), so our credentials carry it. Transformation: the RDFC-1.0 canonical N-Quads of
the document without its proof (JSON-LD to RDF with the contexts that ship with the package,
never the network). Proof configuration: the proof options without `proofValue`, with the
document's `@context`, canonicalised the same way. Hash data: SHA-256(canonical proof
configuration) || SHA-256(canonical document), 64 bytes. The proof value is `z` + base58btc of
the Ed25519 signature over the hash data.

JSON-LD silently drops whatever its contexts do not define, and a dropped member is not signed:
anyone could change it without breaking the proof. So canonicalisation here is "safe": a member
that does not expand to an absolute IRI, or a node id or type that stays a relative IRI, is an
error rather than something quietly left out of the signature.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from ledger.credentials import documents
from ledger.credentials.dataintegrity import ProofError
from ledger.credentials.documents import UnknownDocument
from ledger.credentials.multibase import MultibaseError, base58btc_decode, base58btc_encode

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"

# The base IRI relative references are resolved against. Any relative reference keeps the base's
# scheme (RFC 3986, 5.2), and no real IRI has this one, so whatever starts with it was relative:
# jsonld.js leaves such IRIs out of the RDF, pyld resolves them against http://example.org/base/,
# and either way they would not be signed as written.
RELATIVE = "x-ledger-relative-iri:/"


class CanonicalisationError(ValueError):
    """The document is not JSON-LD that the shipped contexts fully describe."""


class _ResolvedContexts:
    """pyld's cache of resolved contexts, ours rather than its process-wide one: only documents
    from our loader get in. Bounded, because a document's inline contexts are cached too."""

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._size = size

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._entries:
            return default
        self._entries.move_to_end(key)
        return self._entries[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


_RESOLVED = _ResolvedContexts(64)
# pyld keeps module-level caches (initial and inverse contexts, processed contexts per resolved
# context) that are not made for threads; one canonicalisation at a time (a few milliseconds).
_LOCK = threading.Lock()


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    remote = documents.load(url)
    remote["tag"] = "static"  # tells pyld to keep the resolved context for later operations
    return remote


def _dropped(term: str | None) -> None:
    if term is None:  # pyld names the expanded term: nothing for a term mapped to null
        raise CanonicalisationError("a member the document's contexts map to null is not signed")
    raise CanonicalisationError(f"the member {term!r} is not defined by the document's contexts")


def _lost(dataset: Mapping[str, list[dict[str, Any]]]) -> str | None:
    """The first term of the RDF dataset that standard RDF would not keep, if any: an IRI that
    was relative in the document (resolved against RELATIVE) or a blank-node predicate."""
    for graph, triples in dataset.items():
        if graph.startswith(RELATIVE):
            return f"graph name {graph!r}"
        for triple in triples:
            if triple["predicate"]["type"] == "blank node":
                return f"property {triple['predicate']['value']!r} (a blank node)"
            for term in (triple["subject"], triple["predicate"], triple["object"]):
                if term["type"] == "IRI" and term["value"].startswith(RELATIVE):
                    return f"relative IRI {term['value'][len(RELATIVE) :]!r}"
                if term.get("datatype", "").startswith(RELATIVE):
                    return f"relative datatype {term['datatype'][len(RELATIVE) :]!r}"
    return None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [] if value is None else [value]


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def canonical(document: Mapping[str, Any]) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document.

    Raises UnknownDocument for a context that does not ship with the package, and
    CanonicalisationError for a member, id or type that standard RDF would leave out.
    """
    options = {
        "documentLoader": _loader,
        "contextResolver": ContextResolver(_RESOLVED, _loader),
        "base": RELATIVE,
        "produceGeneralizedRdf": True,  # so blank-node predicates show, and are refused
    }
    try:
        with _LOCK:
            processor = jsonld.JsonLdProcessor(on_property_dropped=_dropped)
            dataset = processor.to_rdf(dict(document), options)
            lost = _lost(dataset)
            if lost is not None:
                raise CanonicalisationError(f"{lost} would not be signed")
            quads: str = URDNA2015().main(dataset, {"format": "application/n-quads"})
    except Exception as exc:  # pyld raises JsonLdError, but also KeyError and the like
        root = _root(exc)  # it wraps the loader's and our handler's errors in its own
        if isinstance(root, UnknownDocument | CanonicalisationError):
            raise root from None
        raise CanonicalisationError(f"not valid JSON-LD: {exc!r}; {root!r}") from exc
    return quads


def _unsecured(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The document a proof covers: without `proof`, or in a proof chain with just the proofs
    its `previousProof` names (VC Data Integrity 4.2 / 4.4)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    previous = proof.get("previousProof")
    if previous is None:
        return unsecured
    wanted = [previous] if isinstance(previous, str) else list(previous)
    present = document.get("proof")
    proofs = present if isinstance(present, list) else [present] if present else []
    matching = [p for p in proofs if isinstance(p, Mapping) and p.get("id") in wanted]
    if len(matching) != len(wanted):
        raise ProofError("a proof named in previousProof is missing from the document")
    unsecured["proof"] = matching
    return unsecured


def _configuration(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The proof configuration: the proof options without `proofValue`, with the document's
    `@context` (VC DI EdDSA 3.2.5)."""
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in document:
        options["@context"] = document["@context"]
    return options


def hash_data(document: Mapping[str, Any], proof: Mapping[str, Any]) -> bytes:
    """SHA-256(canonical proof configuration) || SHA-256(canonical unsecured document).
    Raises ProofError when either cannot be canonicalised."""
    unsecured = _unsecured(document, proof)
    try:
        configuration = canonical(_configuration(unsecured, proof))
    except (CanonicalisationError, UnknownDocument) as exc:
        raise ProofError(f"the proof options cannot be canonicalised: {exc}") from exc
    try:
        transformed = canonical(unsecured)
    except (CanonicalisationError, UnknownDocument) as exc:
        raise ProofError(f"the document cannot be canonicalised: {exc}") from exc
    return (
        hashlib.sha256(configuration.encode("utf-8")).digest()
        + hashlib.sha256(transformed.encode("utf-8")).digest()
    )


def create_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
    *,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
) -> dict[str, Any]:
    """An `eddsa-rdfc-2022` DataIntegrityProof over the document with any `proof` removed
    (or, with `previous_proof`, with only the proofs it names, for a proof chain)."""
    proof: dict[str, Any] = {"type": PROOF_TYPE}
    if proof_id is not None:
        proof["id"] = proof_id
    proof |= {
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if previous_proof is not None:
        proof["previousProof"] = previous_proof
    proof["proofValue"] = "z" + base58btc_encode(private_key.sign(hash_data(document, proof)))
    return proof


def verify_proof(document: Mapping[str, Any], proof: Mapping[str, Any], public_key: bytes) -> None:
    """Verify one `eddsa-rdfc-2022` proof of the document; raises ProofError naming the step.

    Checks the signature only: whether the verification method is the issuer's key and the
    purpose is the expected one is the caller's part."""
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    context = proof.get("@context")
    if context is not None:  # VC DI EdDSA 3.2.2 step 4
        ours, theirs = _as_list(context), _as_list(document.get("@context"))
        if theirs[: len(ours)] != ours:
            raise ProofError("the document's @context does not start with the proof's")
        document = {**document, "@context": context}
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue is not a base58btc multibase value")
    try:
        signature = base58btc_decode(value[1:])
    except MultibaseError as exc:
        raise ProofError(f"proofValue is not base58btc: {exc}") from exc
    if len(signature) != 64:
        raise ProofError("proofValue is not an Ed25519 signature (64 bytes)")
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as exc:
        raise ProofError(f"not an Ed25519 public key: {exc}") from exc
    try:
        key.verify(signature, hash_data(document, proof))
    except InvalidSignature as exc:
        raise ProofError("the proof's signature does not verify: the document was changed") from exc
