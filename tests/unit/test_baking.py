"""Baked badges: the signed credential put into the badge image (PNG iTXt chunk, SVG element)
as Open Badges 3.0 describes, read back by a parser written here and by Pillow / ElementTree,
and still verifying; and the badge art itself."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import date
from typing import Any
from xml.etree import ElementTree

import pytest
from PIL import Image

from ledger.credentials import jwt
from ledger.credentials.badge_art import BADGES, UnknownKind, badge_png, badge_svg
from ledger.credentials.baking import (
    NAMESPACE,
    BakingError,
    bake,
    bake_png,
    bake_svg,
    unbake,
    unbake_png,
    unbake_svg,
)
from ledger.credentials.service import Credentials
from ledger.credentials.verifier import verify_credential
from ledger.runtime import Runtime
from tests.builders import licensed

CREDENTIAL_TAG = f"{{{NAMESPACE}}}credential"
KINDS = ("associate_trainer", "licence", "instructor")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # baking works on the credential's bytes; one backend shows it


Issued = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]


@pytest.fixture
def issued(runtime: Runtime) -> Issued:
    """A licence's signed credential, the issuer's DID document and its status list."""
    _, licence = licensed(runtime.service)
    runtime.runner.catch_up()
    credentials = Credentials(runtime)
    credential = credentials.credential(licence)
    assert credential is not None
    list_id = int(credential["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1])
    lists = credentials.status_lists(list_id, date(2015, 1, 1))  # by URL, as published then
    return credential, credentials.issuer.did_document(), lists


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Every (type, data) chunk, read independently of the code under test, CRCs checked."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        data = png[at + 8 : at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0] == zlib.crc32(
            kind + data
        )
        found.append((kind, data))
        at += 12 + length
    return found


def itxt(data: bytes) -> dict[str, Any]:
    keyword, rest = data.split(b"\x00", 1)
    language, translated, text = rest[2:].split(b"\x00", 2)
    return {
        "keyword": keyword.decode("latin-1"),
        "compression": rest[0],
        "method": rest[1],
        "language": language,
        "translated": translated,
        "text": text.decode("utf-8"),
    }


def baked_chunks(png: bytes) -> list[dict[str, Any]]:
    return [
        itxt(data)
        for kind, data in chunks(png)
        if kind == b"iTXt" and itxt(data)["keyword"] == "openbadgecredential"
    ]


def verifies(credential: dict[str, Any], issued: Issued) -> bool:
    _, did, lists = issued
    verdict = verify_credential(credential, did, lists, date(2015, 1, 1))
    assert verdict.ok, verdict.lines()
    return verdict.status == "valid"


def test_a_baked_png_holds_one_uncompressed_itxt_chunk_before_iend(issued: Issued) -> None:
    credential = issued[0]
    baked = bake_png(badge_png("licence"), credential)
    kinds = [kind for kind, _ in chunks(baked)]
    assert kinds[0] == b"IHDR"
    assert kinds[-2:] == [b"iTXt", b"IEND"]
    (chunk,) = baked_chunks(baked)
    assert chunk["compression"] == 0
    assert chunk["method"] == 0
    assert (chunk["language"], chunk["translated"]) == (b"", b"")
    assert json.loads(chunk["text"]) == credential
    assert unbake_png(baked) == credential
    assert verifies(json.loads(chunk["text"]), issued)


def test_pillow_still_reads_the_baked_png_and_finds_the_credential(issued: Issued) -> None:
    credential = issued[0]
    baked = bake_png(badge_png("licence"), credential)
    with Image.open(io.BytesIO(baked)) as image:
        image.verify()
    with Image.open(io.BytesIO(baked)) as image:
        image.load()
        assert (image.format, image.size, image.mode) == ("PNG", (400, 400), "RGBA")
        assert json.loads(image.text["openbadgecredential"]) == credential  # type: ignore[attr-defined]
        original = Image.open(io.BytesIO(badge_png("licence")))
        assert image.tobytes() == original.tobytes()  # the picture itself is untouched


def test_baking_again_replaces_the_credential_in_the_png(issued: Issued) -> None:
    credential = issued[0]
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    baked = bake_png(bake_png(badge_png("licence"), credential), token)
    (chunk,) = baked_chunks(baked)
    assert chunk["text"] == token
    assert unbake(baked) == token  # a compact JWS is returned as it was baked


def test_a_baked_svg_carries_the_credential_as_the_roots_first_child(issued: Issued) -> None:
    credential = issued[0]
    baked = bake_svg(badge_svg("licence"), credential)
    text = baked.decode("utf-8")
    assert f'xmlns:openbadges="{NAMESPACE}"' in text
    assert "<openbadges:credential><![CDATA[{" in text
    root = ElementTree.fromstring(baked)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    first = root[0]
    assert first.tag == CREDENTIAL_TAG
    assert first.get("verify") is None
    assert json.loads(first.text or "") == credential
    assert len(root.findall(CREDENTIAL_TAG)) == 1
    assert unbake_svg(baked) == credential
    assert verifies(json.loads(first.text or ""), issued)


def test_baking_an_svg_again_keeps_one_element_and_a_jwt_goes_in_verify(issued: Issued) -> None:
    credential = issued[0]
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"
    baked = bake(bake(badge_svg("instructor"), credential), token)
    root = ElementTree.fromstring(baked)
    found = root.findall(CREDENTIAL_TAG)
    assert len(found) == 1
    assert root[0] is found[0]
    assert found[0].get("verify") == token
    assert not (found[0].text or "").strip()
    assert unbake(baked) == token
    assert baked.decode().count('xmlns:openbadges="') == 1


def test_a_cdata_terminator_inside_the_credential_survives_the_svg() -> None:
    credential = {"name": "odd ]]> name", "nested": {"text": "a]]>b]]]>"}}
    baked = bake_svg(badge_svg("licence"), credential)
    assert json.loads(ElementTree.fromstring(baked)[0].text or "") == credential
    assert unbake_svg(baked) == credential
    assert unbake_svg(bake_svg(baked, {"again": True})) == {"again": True}


def test_a_baked_jwt_round_trips_in_both_formats(runtime: Runtime, issued: Issued) -> None:
    credential = issued[0]
    token = jwt.encode(credential, runtime.store.signing.signer_at(runtime.clock.now()).private_key)
    for art in (badge_png("associate_trainer"), badge_svg("associate_trainer")):
        assert unbake(bake(art, token)) == token


def test_broken_images_are_refused_with_a_reason() -> None:
    png = badge_png("licence")
    with pytest.raises(BakingError, match="no PNG signature"):
        unbake_png(b"GIF89a")
    with pytest.raises(BakingError, match="holds no openbadgecredential"):
        unbake_png(png)
    corrupt = bytearray(bake_png(png, {"a": 1}))
    corrupt[40] ^= 0xFF
    with pytest.raises(BakingError, match="wrong CRC"):
        unbake_png(bytes(corrupt))
    with pytest.raises(BakingError, match="ends before its IEND"):
        unbake_png(png[:-12])
    with pytest.raises(BakingError, match="holds no <openbadges:credential>"):
        unbake_svg(badge_svg("licence"))
    with pytest.raises(BakingError, match="declares entities"):
        unbake_svg(b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(BakingError, match="root element is not <svg>"):
        bake_svg(b"<html/>", {"a": 1})
    with pytest.raises(BakingError, match="compact JWS"):
        bake_png(png, "not a token")


def test_an_empty_svg_root_with_a_doctype_is_baked_well_formed() -> None:
    svg = (
        b'<?xml version="1.0"?>\n<!-- art -->\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    )
    baked = bake_svg(svg, {"a": 1})
    assert ElementTree.fromstring(baked)[0].tag == CREDENTIAL_TAG
    assert unbake(baked) == {"a": 1}


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    found = image.getpixel((x, y))
    assert isinstance(found, tuple)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_each_badge_is_a_400_pixel_round_image_in_its_own_colour(kind: str) -> None:
    with Image.open(io.BytesIO(badge_png(kind))) as image:
        assert image.size == (400, 400)
        pixels = image.convert("RGBA")
        assert pixel(pixels, 2, 2)[3] == 0  # transparent outside the disc
        band = pixel(pixels, 30, 200)  # on the coloured band, at the left
        colour = BADGES[kind].colour
        assert band[:3] == tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    root = ElementTree.fromstring(badge_svg(kind))
    assert root.get("viewBox") == "0 0 400 400"
    words = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "EFCE" in words
    assert BADGES[kind].title.partition(" in ")[0] in words
    assert colour in badge_svg(kind).decode()


def test_the_badges_are_distinct_and_the_same_bytes_every_time() -> None:
    assert len({BADGES[k].colour for k in KINDS}) == 3
    assert len({badge_png(k) for k in KINDS}) == 3
    for kind in KINDS:
        assert badge_png.__wrapped__(kind) == badge_png.__wrapped__(kind)
        assert badge_svg.__wrapped__(kind) == badge_svg.__wrapped__(kind)
    with pytest.raises(UnknownKind):
        badge_png("grand_master")
