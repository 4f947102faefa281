"""The credential's other forms over real HTTP, from a server loaded with the demo history: the
VC-JWT verifies with joserfc against the DID document the server publishes, the baked PNG and
SVG carry the same credential as `/credentials/{id}` and it verifies, and the Achievement's
`image` is served."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jws import JWSRegistry
from PIL import Image

from ledger.config import Settings
from ledger.credentials.baking import unbake
from ledger.credentials.verifier import verify_credential
from ledger.domain.certificates import Kind, new_certificate_id
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server
from tests.unit.test_vc_jwt import epoch, jwk_of

EDDSA = JWSRegistry(algorithms=["EdDSA"])
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
PREFIXES = {"AT": "associate_trainer", "LT": "licence", "IC": "instructor"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    """The server, and one valid certificate of each kind (by kind)."""
    folder = tmp_path_factory.mktemp("badges")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    loaded = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    valid = json.loads(loaded.stdout)["certificates"]["valid"]
    chosen = {PREFIXES[c[:2]]: c for c in reversed(valid)}
    assert set(chosen) == set(PREFIXES.values())
    server = start_server(settings)
    try:
        yield server, chosen
    finally:
        stop_server(server)


def get(server: Server, path: str, status: int = 200) -> httpx.Response:
    response = httpx.get(f"{server.base}{path}", timeout=60)
    assert response.status_code == status, (path, response.text[:300])
    return response


def unsecured(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if k != "proof"}


def verified(server: Server, credential: dict[str, Any], did: dict[str, Any]) -> None:
    """The credential's proofs and status, with the status list the server publishes."""
    url = credential["credentialStatus"]["statusListCredential"]
    lists = {url: get(server, urlsplit(url).path).json()}
    verdict = verify_credential(credential, did, lists, datetime.now(UTC).date())
    assert verdict.ok, verdict.lines()
    assert verdict.status == "valid"


@pytest.mark.parametrize("kind", sorted(PREFIXES.values()))
def test_the_jwt_verifies_against_the_published_did_document(
    demo: tuple[Server, dict[str, str]], kind: str
) -> None:
    server, chosen = demo
    certificate = chosen[kind]
    did = get(server, "/.well-known/did.json").json()
    response = get(server, f"/credentials/{certificate}.jwt")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "public, max-age=60"
    token = response.text
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    decoded = jose_jwt.decode(token, jwk_of(did, header["kid"]), registry=EDDSA)
    assert decoded.header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}
    credential = get(server, f"/credentials/{certificate}").json()
    claims = dict(decoded.claims)
    registered = {k: claims.pop(k) for k in ("iss", "jti", "nbf", "exp") if k in claims}
    assert claims == unsecured(credential)
    assert registered["iss"] == credential["issuer"]["id"] == did["id"]
    assert registered["jti"] == credential["id"]
    assert registered["nbf"] == epoch(credential["validFrom"])
    assert registered.get("exp") == (
        epoch(credential["validUntil"]) if "validUntil" in credential else None
    )
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    assert {p["verificationMethod"] for p in proofs} == {header["kid"]}


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_the_baked_image_carries_the_credential_served_as_json(
    demo: tuple[Server, dict[str, str]], suffix: str
) -> None:
    server, chosen = demo
    did = get(server, "/.well-known/did.json").json()
    for kind, certificate in chosen.items():
        response = get(server, f"/credentials/{certificate}.{suffix}")
        assert (
            response.headers["content-type"] == {"png": "image/png", "svg": "image/svg+xml"}[suffix]
        )
        assert response.headers["cache-control"] == "public, max-age=60"
        baked = unbake(response.content)
        assert isinstance(baked, dict)
        served = get(server, f"/credentials/{certificate}").json()
        # Both are signed when rendered: the same credential, each with its own valid proofs.
        assert unsecured(baked) == unsecured(served)
        verified(server, baked, did)
        verified(server, served, did)
        art = get(server, f"/achievements/{kind}/badge.{suffix}").content
        if suffix == "png":
            with Image.open(io.BytesIO(response.content)) as image:
                image.load()
                assert image.size == (400, 400)
                assert json.loads(image.text["openbadgecredential"]) == baked  # type: ignore[attr-defined]
                assert image.tobytes() == Image.open(io.BytesIO(art)).tobytes()
        else:
            root = ElementTree.fromstring(response.content)
            assert root[0].tag == "{https://purl.imsglobal.org/ob/v3p0}credential"
            assert len(root) == len(ElementTree.fromstring(art)) + 1


def test_the_achievement_image_named_in_the_credential_is_served(
    demo: tuple[Server, dict[str, str]],
) -> None:
    server, chosen = demo
    for kind, certificate in chosen.items():
        achievement = get(server, f"/credentials/{certificate}").json()["credentialSubject"][
            "achievement"
        ]
        image = achievement["image"]
        assert urlsplit(image["id"]).path == f"/achievements/{kind}/badge.png"
        png = get(server, urlsplit(image["id"]).path)
        assert png.headers["content-type"] == "image/png"
        assert png.headers["cache-control"] == "public, max-age=86400"
        with Image.open(io.BytesIO(png.content)) as opened:
            assert (opened.format, opened.size) == ("PNG", (400, 400))
            assert "openbadgecredential" not in getattr(opened, "text", {})
        svg = get(server, f"/achievements/{kind}/badge.svg")
        assert svg.headers["content-type"] == "image/svg+xml"
        root = ElementTree.fromstring(svg.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{https://purl.imsglobal.org/ob/v3p0}credential") is None


def test_unknown_certificates_and_achievements_are_404_problems(
    demo: tuple[Server, dict[str, str]],
) -> None:
    server, _ = demo
    unknown = new_certificate_id(Kind.LICENCE)  # well formed, never issued
    for path in (
        f"/credentials/{unknown}.jwt",
        f"/credentials/{unknown}.png",
        f"/credentials/{unknown}.svg",
        "/credentials/LT-0000-0000-0000.jwt",  # not a certificate id (wrong check character)
        "/credentials/nonsense.png",
        "/achievements/grand_master/badge.png",
        "/achievements/grand_master/badge.svg",
    ):
        response = get(server, path, 404)
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["status"] == 404
