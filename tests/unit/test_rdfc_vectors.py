"""eddsa-rdfc-2022 against the W3C vc-di-eddsa test vectors, byte for byte, with no network.

The `employ/` vector uses the W3C CCG citizenship context v4rc1, which our credentials never
need, so it is not shipped with the package: the test adds it from
`fixtures/citizenship-v4rc1.jsonld` (the context as published at
https://w3id.org/citizenship/v4rc1) through a test-only loader.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.credentials import documents, multibase, rdfc
from ledger.credentials.dataintegrity import ProofError
from ledger.credentials.documents import UnknownDocument
from ledger.credentials.issuer import Issuer
from ledger.credentials.status_entries import StatusEntry
from ledger.integrity.keyring import Keyring

TESTS = Path(__file__).resolve().parents[1]
VECTORS = TESTS / "vectors" / "vc" / "vc-di-eddsa" / "TestVectors"
RDFC = VECTORS / "eddsa-rdfc-2022"
SETS = VECTORS / "proof-set-chain"
CONTEXTS = TESTS / "vectors" / "vc" / "contexts"
CITIZENSHIP = "https://w3id.org/citizenship/v4rc1"


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def private_key(multikey: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(multibase.private_key_from_multikey(multikey))


def key_pair(pair: dict[str, str]) -> tuple[Ed25519PrivateKey, bytes]:
    private = private_key(pair["privateKeyMultibase"])
    public = multibase.public_key_from_multikey(pair["publicKeyMultibase"])
    assert private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == public
    return private, public


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(autouse=True)
def fresh_context_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test resolves its contexts itself (through the loader), not from an earlier test."""
    monkeypatch.setattr(rdfc, "_RESOLVED", rdfc._ResolvedContexts(64))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("the network is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture
def citizenship(monkeypatch: pytest.MonkeyPatch) -> None:
    context = read(Path(__file__).parent / "fixtures" / "citizenship-v4rc1.jsonld")

    def loader(url: str, options: Any = None) -> dict[str, Any]:
        if url == CITIZENSHIP:
            return {"contextUrl": None, "documentUrl": url, "document": context, "tag": "static"}
        return original(url, options)

    original = rdfc._loader
    monkeypatch.setattr(rdfc, "_loader", loader)


# --- the shipped documents -------------------------------------------------------------------


def test_every_shipped_context_loads_under_its_url_and_equals_the_reference_copy() -> None:
    index = documents.index()
    assert set(index) == {
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/ns/credentials/status/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/did/v1",
    }
    shipped = {p.name for p in resources.files("ledger.credentials").joinpath("contexts").iterdir()}
    assert shipped == set(index.values()) | {"index.json"}
    for url, name in index.items():
        remote = documents.load(url)
        assert remote["documentUrl"] == url
        assert remote["contextUrl"] is None
        assert "@context" in remote["document"]
        assert remote["document"] == read(CONTEXTS / name)


def test_a_loaded_document_is_a_fresh_copy() -> None:
    url = "https://www.w3.org/ns/credentials/v2"
    documents.load(url)["document"]["@context"]["name"] = "https://attacker.example/name"
    assert documents.load(url)["document"]["@context"]["name"] == "https://schema.org/name"


def test_an_unknown_url_is_refused_without_touching_the_network(no_network: list[object]) -> None:
    with pytest.raises(UnknownDocument) as raised:
        documents.load("https://w3id.org/security/v2")
    assert raised.value.url == "https://w3id.org/security/v2"
    document = read(VECTORS / "unsigned.json")
    document["@context"] = [*document["@context"], "https://example.org/contexts/unknown/v1"]
    with pytest.raises(UnknownDocument, match="unknown/v1"):
        rdfc.canonical(document)
    with pytest.raises(ProofError, match="unknown/v1"):
        rdfc.create_proof(document, Ed25519PrivateKey.generate(), "did:example:a#k", "2026-01-01")
    assert no_network == []


# --- the eddsa-rdfc-2022 vectors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "unsigned"),
    [(RDFC, VECTORS / "unsigned.json"), (RDFC / "employ", VECTORS / "employmentAuth.json")],
    ids=["alumni", "employ"],
)
def test_the_rdfc_vector_is_reproduced_byte_for_byte(
    folder: Path, unsigned: Path, citizenship: None, no_network: list[object]
) -> None:
    document = read(unsigned)
    signed = read(folder / "signedDataInt.json")
    configuration = read(folder / "proofConfigDataInt.json")
    private, public = key_pair(read(VECTORS / "keyPair.json"))

    canonical_document = rdfc.canonical(document)
    assert canonical_document == (folder / "canonDocDataInt.txt").read_text()
    assert sha256(canonical_document) == (folder / "docHashDataInt.txt").read_text().strip()

    canonical_configuration = rdfc.canonical(configuration)
    assert canonical_configuration == (folder / "proofCanonDataInt.txt").read_text()
    proof_hash = sha256(canonical_configuration)
    assert proof_hash == (folder / "proofHashDataInt.txt").read_text().strip()

    hash_data = rdfc.hash_data(document, signed["proof"])
    assert hash_data.hex() == (folder / "combinedHashDataInt.txt").read_text().strip()
    assert hash_data.hex().startswith(proof_hash)  # the proof hash comes first
    signature = private.sign(hash_data)
    assert signature.hex() == (folder / "sigHexDataInt.txt").read_text().strip()
    assert "z" + multibase.base58btc_encode(signature) == (
        (folder / "sigBTC58DataInt.txt").read_text().strip()
    )

    proof = rdfc.create_proof(
        document,
        private,
        configuration["verificationMethod"],
        configuration["created"],
        configuration["proofPurpose"],
    )
    assert proof == signed["proof"]
    assert json.dumps(proof) == json.dumps(signed["proof"])  # the same members, in order
    assert {**document, "proof": proof} == signed
    rdfc.verify_proof(signed, signed["proof"], public)
    assert no_network == []


@pytest.mark.parametrize(
    ("folder", "path", "value"),
    [
        (RDFC, ("credentialSubject", "alumniOf"), "The School of Other Examples"),
        (RDFC, ("validFrom",), "2023-01-02T00:00:00Z"),
        (RDFC, ("proof", "created"), "2023-02-24T23:36:39Z"),
        (RDFC, ("proof", "proofPurpose"), "authentication"),
        (RDFC / "employ", ("credentialSubject", "givenName"), "JANE"),
        (
            RDFC / "employ",
            ("credentialSubject", "employmentAuthorizationDocument", "lprCategory"),
            "C10",
        ),
    ],
)
def test_a_changed_document_or_proof_is_refused(
    folder: Path, path: tuple[str, ...], value: str, citizenship: None
) -> None:
    signed = read(folder / "signedDataInt.json")
    _, public = key_pair(read(VECTORS / "keyPair.json"))
    node = signed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(ProofError, match="does not verify"):
        rdfc.verify_proof(signed, signed["proof"], public)


def test_a_proof_is_refused_with_the_wrong_key_or_a_damaged_value() -> None:
    signed = read(RDFC / "signedDataInt.json")
    other = read(SETS / "multiKeyPairs.json")["keyPair1"]
    with pytest.raises(ProofError, match="does not verify"):
        rdfc.verify_proof(signed, signed["proof"], key_pair(other)[1])
    _, public = key_pair(read(VECTORS / "keyPair.json"))
    for damaged, message in [
        ({"proofValue": "u" + signed["proof"]["proofValue"][1:]}, "base58btc"),
        ({"proofValue": "z0OIl"}, "base58btc"),
        ({"proofValue": "z" + multibase.base58btc_encode(b"\x01" * 63)}, "64 bytes"),
        ({"cryptosuite": "eddsa-jcs-2022"}, "cryptosuite"),
        ({"@context": ["https://www.w3.org/ns/credentials/examples/v2"]}, "@context"),
    ]:
        with pytest.raises(ProofError, match=message):
            rdfc.verify_proof(signed, {**signed["proof"], **damaged}, public)


def test_the_document_members_other_than_proof_are_all_signed() -> None:
    """A member no context defines would be dropped from the RDF, so left unsigned: refused."""
    document = read(RDFC / "signedDataInt.json")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2"]  # no examples @vocab
    with pytest.raises(rdfc.CanonicalisationError, match="alumniOf"):
        rdfc.canonical(document)
    with pytest.raises(ProofError, match="alumniOf"):
        rdfc.create_proof(document, Ed25519PrivateKey.generate(), "did:example:a#k", "2026-01-01")


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("id", "credentials/1", "relative IRI 'credentials/1'"),
        ("id", "//other.example/1", "relative IRI '/other.example/1'"),
        ("issuer", "issuers/5678", "relative IRI 'issuers/5678'"),
        ("type", ["VerifiableCredential", "Unknown"], "relative IRI 'Unknown'"),
        ("validFrom", {"@value": "2023", "@type": "year"}, "relative datatype 'year'"),
        ("name", {"@id": "#fragment"}, "relative IRI '#fragment'"),
    ],
)
def test_relative_iris_are_refused_rather_than_resolved_or_dropped(
    member: str, value: Any, message: str
) -> None:
    """pyld resolves a relative IRI against http://example.org/base/ and jsonld.js drops it:
    neither signs what the document says, and the two would not even agree."""
    document = read(VECTORS / "unsigned.json")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:abcdefgh"}
    rdfc.canonical(document)
    document[member] = value
    with pytest.raises(rdfc.CanonicalisationError, match=message):
        rdfc.canonical(document)


def test_an_undefined_property_in_an_inline_context_is_refused() -> None:
    document = read(VECTORS / "unsigned.json")
    document["@context"] = [
        "https://www.w3.org/ns/credentials/v2",
        {"alumniOf": None},
    ]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:abcdefgh", "alumniOf": "x"}
    with pytest.raises(rdfc.CanonicalisationError, match="map to null"):
        rdfc.canonical(document)


def test_a_property_that_is_a_blank_node_is_refused() -> None:
    """Standard RDF has no blank-node predicates: jsonld.js drops them, so they are refused."""
    document = read(VECTORS / "unsigned.json")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2", {"secret": "_:b0"}]
    document["type"] = ["VerifiableCredential"]
    document["credentialSubject"] = {"id": "did:example:abcdefgh"}
    document["secret"] = "x"
    with pytest.raises(rdfc.CanonicalisationError, match="blank node"):
        rdfc.canonical(document)


def test_a_crash_inside_pyld_is_a_canonicalisation_error() -> None:
    """pyld 3.3 raises KeyError on `"@vocab": null` where no vocabulary was set (valid JSON-LD);
    a verifier must answer "does not verify", not fail with an internal error."""
    document = read(VECTORS / "unsigned.json")
    document["@context"] = ["https://www.w3.org/ns/credentials/v2", {"@vocab": None}]
    with pytest.raises(rdfc.CanonicalisationError, match="not valid JSON-LD"):
        rdfc.canonical(document)
    _, public = key_pair(read(VECTORS / "keyPair.json"))
    signed = read(RDFC / "signedDataInt.json")
    with pytest.raises(ProofError, match="cannot be canonicalised"):
        rdfc.verify_proof({**signed, "@context": document["@context"]}, signed["proof"], public)


# --- proof sets and chains -------------------------------------------------------------------


def test_each_proof_of_the_proof_set_vectors_is_reproduced_and_verifies(
    no_network: list[object],
) -> None:
    keys = read(SETS / "multiKeyPairs.json")
    for number, signed_name in [(1, "signedProofSet1.json"), (2, "signedProofSet2.json")]:
        signed = read(SETS / signed_name)
        proofs = signed["proof"] if isinstance(signed["proof"], list) else [signed["proof"]]
        assert len(proofs) == number
        for index, expected in enumerate(proofs, start=1):
            options = read(SETS / f"proofSetConfig{index}.json")
            assert expected == read(SETS / f"proofSetConfigSigned{index}.json")
            private, public = key_pair(keys[f"keyPair{index}"])
            # each proof of a set is over the document without any proof
            proof = rdfc.create_proof(
                signed,
                private,
                options["verificationMethod"],
                options["created"],
                options["proofPurpose"],
                proof_id=options["id"],
            )
            assert json.dumps(proof) == json.dumps(expected)
            rdfc.verify_proof(signed, expected, public)
            with pytest.raises(ProofError):
                rdfc.verify_proof({**signed, "name": "Changed"}, expected, public)
    assert no_network == []


def test_each_proof_of_the_proof_chain_vectors_is_reproduced_and_verifies() -> None:
    """A chained proof signs the document with the proofs its `previousProof` names."""
    keys = read(SETS / "multiKeyPairs.json")
    chain = read(SETS / "signedProofChain2.json")
    assert chain["proof"][:3] == read(SETS / "signedProofChain1.json")["proof"]
    for number in (1, 2):
        options = read(SETS / f"proofChainConfig{number}.json")
        expected = read(SETS / f"proofChainConfigSigned{number}.json")
        temporary = read(SETS / f"proofChainTempDoc{number}.json")  # the document signed
        private, _ = key_pair(keys[f"keyPair{number + 2}"])
        proof = rdfc.create_proof(
            temporary,
            private,
            options["verificationMethod"],
            options["created"],
            options["proofPurpose"],
            proof_id=options.get("id"),
            previous_proof=options["previousProof"],
        )
        assert json.dumps(proof) == json.dumps(expected)
        assert chain["proof"][number + 1] == expected
    for number, proof in enumerate(chain["proof"], start=1):
        rdfc.verify_proof(chain, proof, key_pair(keys[f"keyPair{number}"])[1])
    # the chained proof fails once a proof it names is changed or gone
    _, public = key_pair(keys["keyPair3"])
    changed = [*chain["proof"]]
    changed[0] = {**changed[0], "created": "2023-02-24T23:36:39Z"}
    with pytest.raises(ProofError, match="does not verify"):
        rdfc.verify_proof({**chain, "proof": changed}, chain["proof"][2], public)
    with pytest.raises(ProofError, match="previousProof"):
        rdfc.verify_proof({**chain, "proof": chain["proof"][1:]}, chain["proof"][2], public)


# --- the ledger's own credentials ------------------------------------------------------------


def ledger_credential() -> dict[str, Any]:
    issuer = Issuer("https://ledger.example.org", Keyring("https://ledger.example.org", ()))
    facts = {
        "kind": "licence",
        "certificate_id": "LT-2026-0001",
        "valid_from": "2026-01-05",
        "valid_until": "2028-01-04",
        "scope": {"regions": ["AT", "DE"], "languages": ["de", "en"], "material_version": "3.1"},
        "events": [(None, 10 + i, "CertificateIssued", None) for i in range(3)],
        "evidence": {"attendance": {"weeks": 6, "positions": [1, 2, 3]}, "field_project": [7]},
    }
    return issuer.credential(facts, "Erika Beispiel", StatusEntry(1, 4242))


def test_a_ledger_credential_is_fully_described_by_the_shipped_contexts(
    no_network: list[object],
) -> None:
    credential = ledger_credential()
    quads = rdfc.canonical(credential)  # refuses any member the contexts do not define
    assert "<https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement>" in quads
    assert '"Erika Beispiel"' in quads
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    method = "did:web:ledger.example.org#k1"
    started = time.perf_counter()
    for _ in range(10):
        proof = rdfc.create_proof(credential, private, method, "2026-01-05T10:00:00Z")
    assert time.perf_counter() - started < 2.0  # about 7 ms each once the contexts are loaded
    rdfc.verify_proof({**credential, "proof": [proof]}, proof, public)
    credential["credentialSubject"]["name"] = "Someone Else"
    with pytest.raises(ProofError, match="does not verify"):
        rdfc.verify_proof(credential, proof, public)
    assert no_network == []
