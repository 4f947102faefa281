"""The JSON-LD documents the ledger's credentials refer to, shipped with the package.

Canonicalising a credential for `eddsa-rdfc-2022` needs its `@context` documents. Fetching them
at run time would let whoever serves those URLs change what a signature covers, and would make
issuing and verifying depend on the network; so every context we use is a file in `contexts/`,
named in `contexts/index.json`, and any other URL is refused with `UnknownDocument`.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

PACKAGE = "ledger.credentials"
FOLDER = "contexts"


class UnknownDocument(LookupError):
    """A JSON-LD document that does not ship with the ledger was asked for."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no local copy of the JSON-LD document {url!r} (no network is used)")
        self.url = url


@cache
def _index() -> dict[str, str]:
    text = resources.files(PACKAGE).joinpath(FOLDER, "index.json").read_text("utf-8")
    mapping: dict[str, str] = json.loads(text)
    return mapping


def index() -> dict[str, str]:
    """Canonical URL -> file name in `contexts/`: every document that ships."""
    return dict(_index())


@cache
def _parsed(url: str) -> dict[str, Any]:
    name = _index()[url]
    document: dict[str, Any] = json.loads(
        resources.files(PACKAGE).joinpath(FOLDER, name).read_text("utf-8")
    )
    return document


def document(url: str) -> dict[str, Any]:
    """A fresh copy of the shipped document at `url`. Raises UnknownDocument."""
    if url not in _index():
        raise UnknownDocument(url)
    return copy.deepcopy(_parsed(url))


def load(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld-style remote document for `url`; usable directly as a pyld document loader.

    The copy is fresh on every call because JSON-LD processors may rewrite a loaded context
    in place (resolving relative URLs), and the parsed file is cached for the process.
    """
    return {"contextUrl": None, "documentUrl": url, "document": document(url)}
