"""Baked badges: a credential carried inside its badge image (Open Badges 3.0, "Baked Badge").

PNG: one `iTXt` chunk with keyword `openbadgecredential`, compression flag 0, empty language tag
and translated keyword, and the credential as UTF-8 text, placed just before `IEND`.
SVG: `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root `<svg>`, whose first
child is `<openbadges:credential>`.

What is baked is either the credential with its embedded proof (a mapping: JSON text in the
chunk, or in a CDATA section of the SVG element) or a compact VC-JWT (a string: the chunk's
text, or the SVG element's `verify` attribute), as the specification says for each. Baking
again replaces the credential already baked (the specification allows only one); extracting
reads the first one, as a verifier does.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

KEYWORD = "openbadgecredential"
NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ELEMENT = "openbadges:credential"
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

Credential = Mapping[str, Any] | str  # a credential with an embedded proof, or a compact JWS
Baked = dict[str, Any] | str


class BakingError(ValueError):
    """The image cannot be baked, or holds no (readable) baked credential: says why."""


def _text(credential: Credential) -> str:
    if isinstance(credential, str):
        if not COMPACT_JWS.fullmatch(credential):
            raise BakingError("a credential given as text must be a compact JWS (VC-JWT)")
        return credential
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def _read(text: str) -> Baked:
    text = text.strip()
    if COMPACT_JWS.fullmatch(text):
        return text
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise BakingError(f"the baked credential is neither JSON nor a compact JWS: {exc}") from exc
    if not isinstance(found, dict):
        raise BakingError("the baked credential is JSON but not an object")
    return found


# -- PNG ---------------------------------------------------------------------------------------


def _chunks(image: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, data) chunks of a PNG datastream, each CRC checked, up to IEND."""
    if not image.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image (no PNG signature)")
    chunks, at = [], len(PNG_SIGNATURE)
    while True:
        if at + 8 > len(image):
            raise BakingError("the PNG ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", image[at : at + 8])
        end = at + 8 + length
        if end + 4 > len(image):
            raise BakingError(f"the PNG's {kind!r} chunk runs past the end of the file")
        data = image[at + 8 : end]
        (crc,) = struct.unpack(">I", image[end : end + 4])
        if crc != zlib.crc32(kind + data):
            raise BakingError(f"the PNG's {kind!r} chunk at byte {at} has a wrong CRC")
        chunks.append((kind, data))
        at = end + 4
        if kind == b"IEND":
            return chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt_keyword(data: bytes) -> bytes:
    return data.split(b"\x00", 1)[0]


def bake_png(image: bytes, credential: Credential) -> bytes:
    """The PNG with `credential` in an uncompressed `iTXt` chunk `openbadgecredential`."""
    kept = [
        (kind, data)
        for kind, data in _chunks(image)
        if not (kind == b"iTXt" and _itxt_keyword(data) == KEYWORD.encode())
    ]
    # keyword, NUL, compression flag 0, method 0, language tag "" NUL, translated keyword "" NUL
    itxt = KEYWORD.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00"
    itxt += _text(credential).encode("utf-8")
    body = b"".join(_chunk(kind, data) for kind, data in kept[:-1])
    return PNG_SIGNATURE + body + _chunk(b"iTXt", itxt) + _chunk(*kept[-1])


def unbake_png(image: bytes) -> Baked:
    """The credential of the first `iTXt` chunk `openbadgecredential`."""
    for kind, data in _chunks(image):
        if kind != b"iTXt" or _itxt_keyword(data) != KEYWORD.encode():
            continue
        rest = data[len(KEYWORD) + 1 :]
        if len(rest) < 2:
            raise BakingError("the openbadgecredential chunk is truncated")
        if rest[0] != 0:
            raise BakingError("the openbadgecredential chunk is compressed (the spec forbids it)")
        parts = rest[2:].split(b"\x00", 2)  # language tag, translated keyword, text
        if len(parts) != 3:
            raise BakingError("the openbadgecredential chunk is malformed")
        try:
            return _read(parts[2].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BakingError(f"the baked credential is not UTF-8: {exc}") from exc
    raise BakingError("the PNG holds no openbadgecredential chunk")


# -- SVG ---------------------------------------------------------------------------------------

_PROLOG = re.compile(
    r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE\b[^\[>]*(?:\[.*?\])?\s*>)*", re.DOTALL | re.IGNORECASE
)
_ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
_ROOT = re.compile(rf"<svg\b(?P<attributes>{_ATTRIBUTES})(?P<empty>/?)>")
_BAKED_START = re.compile(rf"<{ELEMENT}\b{_ATTRIBUTES}(?P<empty>/?)>")
_NAMESPACE_DECLARATION = re.compile(r"""\sxmlns:openbadges\s*=\s*(["'])(?P<value>.*?)\1""")


def _without_baked(svg: str) -> str:
    """The SVG without any `<openbadges:credential>` element (CDATA sections skipped whole)."""
    while (start := _BAKED_START.search(svg)) is not None:
        at = start.end()
        if not start.group("empty"):
            while True:
                close = svg.find(f"</{ELEMENT}", at)
                cdata = svg.find("<![CDATA[", at)
                if close < 0:
                    raise BakingError(f"the SVG's <{ELEMENT}> element is not closed")
                if 0 <= cdata < close:
                    ends = svg.find("]]>", cdata)
                    if ends < 0:
                        raise BakingError("the SVG has an unterminated CDATA section")
                    at = ends + 3
                    continue
                at = svg.index(">", close) + 1
                break
        svg = svg[: start.start()] + svg[at:]
    return svg


def _element(credential: Credential) -> str:
    text = _text(credential)
    if isinstance(credential, str):
        return f"<{ELEMENT} verify={quoteattr(text)}></{ELEMENT}>"
    # "]]>" cannot appear inside CDATA: split it across two sections
    return f"<{ELEMENT}><![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]></{ELEMENT}>"


def bake_svg(image: bytes, credential: Credential) -> bytes:
    """The SVG (UTF-8) with `credential` in `<openbadges:credential>`, the root's first child."""
    try:
        svg = _without_baked(image.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BakingError(f"the SVG is not UTF-8: {exc}") from exc
    prolog = _PROLOG.match(svg)
    at = prolog.end() if prolog else 0
    root = _ROOT.match(svg, at)
    if root is None:
        raise BakingError("the document's root element is not <svg>")
    attributes = root.group("attributes")
    declared = _NAMESPACE_DECLARATION.search(attributes)
    if declared is None:
        attributes = attributes.rstrip() + f' xmlns:openbadges="{NAMESPACE}"'
    elif declared.group("value") != NAMESPACE:
        raise BakingError(f"the SVG binds the prefix openbadges to {declared.group('value')}")
    opening = f"<svg{attributes}>"
    closing = "</svg>" if root.group("empty") else ""
    baked = svg[: root.start()] + opening + _element(credential) + closing + svg[root.end() :]
    return baked.encode("utf-8")


def unbake_svg(image: bytes) -> Baked:
    """The credential of the SVG's first `<openbadges:credential>` element."""
    tag = f"{{{NAMESPACE}}}credential"
    if b"<!ENTITY" in image:
        raise BakingError("the SVG declares entities (refused: an image needs none)")
    # Without entity declarations nothing can expand, and ElementTree never fetches a DTD.
    parsed = ElementTree.iterparse(io.BytesIO(image), events=("end",))  # noqa: S314
    try:
        for _, element in parsed:
            if element.tag == tag:
                verify = element.get("verify")
                return _read(verify if verify is not None else element.text or "")
    except ElementTree.ParseError as exc:
        raise BakingError(f"the SVG is not well-formed XML: {exc}") from exc
    raise BakingError(f"the SVG holds no <openbadges:credential> element in {NAMESPACE}")


# -- either ------------------------------------------------------------------------------------


def bake(image: bytes, credential: Credential) -> bytes:
    """Bake into a PNG or an SVG, told apart by the PNG signature."""
    if image.startswith(PNG_SIGNATURE):
        return bake_png(image, credential)
    return bake_svg(image, credential)


def unbake(image: bytes) -> Baked:
    """The baked credential: a dict (embedded proof) or a compact JWS string (VC-JWT)."""
    if image.startswith(PNG_SIGNATURE):
        return unbake_png(image)
    return unbake_svg(image)
