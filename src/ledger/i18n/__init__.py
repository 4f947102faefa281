"""The languages of the ledger's public faces: the verification page, the front door, the
staff console's public pages (sign-in, invitations) and the PDF certificate.

Messages are written in English in the code (gettext `msgid`s); each other language has a
gettext catalogue per domain in `locales/<lang>/LC_MESSAGES/<domain>.po`, read with Babel and
compiled in memory on first use (no build step, nothing generated in the tree). A language is
chosen by a visible switch (`?lang=`, remembered in a cookie) or else by `Accept-Language`.

Domains, each with the source files its messages are extracted from (`DOMAINS`), so that a
test can prove that no catalogue misses a string:
- `verify`: the verification page (and its page for an unknown id);
- `web`: `/` and the console's public pages (sign-in, invitations);
- `pdf`: the printable certificate.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

HERE = Path(__file__).parent
LOCALES = HERE / "locales"
DEFAULT = "en"
LANGUAGES = ("en", "de", "fr", "es", "it", "pl")
"""Every language offered; English is the source language (its messages are the msgids)."""
NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "pl": "Polski",
}
"""Each language named in itself, as a switch shows it."""
DOMAINS: dict[str, tuple[str, ...]] = {
    "verify": ("ledger/api/page.py", "ledger/api/page_*.py"),
    "web": (
        "ledger/console/templates/base.html",
        "ledger/console/templates/macros.html",
        "ledger/console/templates/front_*.html",
        "ledger/console/templates/access_*.html",
        "ledger/console/public_text.py",
    ),
    "pdf": ("ledger/credentials/pdf.py",),
}
"""The files (globs relative to `src/`) whose marked messages belong to each domain."""
COOKIE = "lang"


def catalogue_path(language: str, domain: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def translation(language: str, domain: str) -> gettext.NullTranslations:
    """The messages of `domain` in `language`; English (and any language or domain without
    a catalogue) gives the msgids themselves."""
    if language not in LANGUAGES or language == DEFAULT:
        return gettext.NullTranslations()
    path = catalogue_path(language, domain)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def supported(language: str | None) -> str | None:
    """`language` (any case, with or without a region: "de-AT") as one of ours, or None."""
    if not language:
        return None
    base = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an `Accept-Language` header (RFC 9110 12.5.4: the
    highest quality first, the header's order among equals), English when none fits."""
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(accept_language.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found = supported(tag)
        if found is not None and quality > 0:
            ranked.append((-quality, order, found))
    return min(ranked)[2] if ranked else DEFAULT


def choose(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """The language of a page: the one asked for by the switch (`?lang=`), else the one
    remembered from it (the cookie), else the browser's preference."""
    return supported(asked) or supported(remembered) or negotiate(accept_language)


def long_day(value: date | datetime | str | None, language: str) -> str:
    """A date written out as readers of `language` write it ("19. Juli 2013")."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    # English as written in Europe ("19 July 2013"), not the American default.
    locale = Locale.parse("en_GB" if language == DEFAULT else language)
    return str(format_date(value, format="long", locale=locale))
