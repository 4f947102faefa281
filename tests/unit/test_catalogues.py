"""No catalogue misses a string: every message marked in a domain's files is translated in
every language, nothing is fuzzy, and every placeholder of the English is kept.

Messages are extracted from the source as Babel extracts them (Python: `_`, `gettext`,
`ngettext`; templates: the Jinja2 i18n extension), so a string added to a page without its
translations fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from ledger.i18n import DEFAULT, DOMAINS, LANGUAGES, catalogue_path, choose, negotiate, translation

SOURCE = Path(__file__).resolve().parents[2] / "src"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}|%[sd]")
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def files_of(domain: str) -> list[Path]:
    return sorted({p for pattern in DOMAINS[domain] for p in SOURCE.glob(pattern)})


def messages_of(domain: str) -> dict[str, tuple[str, int]]:
    """Every msgid marked in the domain's files, with where it was first found."""
    found: dict[str, tuple[str, int]] = {}
    for path in files_of(domain):
        method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
        options = {} if method == "python" else JINJA
        for lineno, message, _comments, _context in extract_from_file(
            method, str(path), options=options
        ):
            # a plural message (ngettext) is catalogued under its singular msgid
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, (str(path.relative_to(SOURCE)), lineno))
    return found


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_each_domain_marks_messages_in_files_that_exist(domain: str) -> None:
    assert files_of(domain), f"no source file matches the domain {domain}"
    assert messages_of(domain), f"no message is marked for translation in {domain}"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT])
@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_no_catalogue_misses_a_string(domain: str, language: str) -> None:
    path = catalogue_path(language, domain)
    assert path.is_file(), f"{language} has no catalogue for {domain}: {path.name} is missing"
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    problems = []
    for msgid, (where, line) in sorted(messages_of(domain).items()):
        entry = catalogue.get(msgid)
        text = entry.string if entry is not None else None
        strings = list(text) if isinstance(text, tuple | list) else [text]
        if entry is None or not all(strings):
            problems.append(f"untranslated ({where}:{line}): {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy ({where}:{line}): {msgid!r}")
        elif any(placeholders(msgid) != placeholders(s or "") for s in strings):
            problems.append(f"placeholders differ ({where}:{line}): {msgid!r}")
    assert not problems, f"{language}/{domain}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT])
def test_each_catalogue_really_translates(language: str) -> None:
    """A catalogue that merely copies the English would pass the count: most messages of a
    real translation differ from their msgid."""
    for domain in DOMAINS:
        messages = messages_of(domain)
        t = translation(language, domain)
        changed = sum(t.gettext(m) != m for m in messages)
        assert changed >= 0.8 * len(messages), (domain, language, changed, len(messages))


def test_the_language_is_the_switch_then_the_cookie_then_the_browser() -> None:
    assert negotiate("pl-PL,pl;q=0.9,en;q=0.8") == "pl"
    assert negotiate("fr;q=0.5, de-AT") == "de"
    assert negotiate("zh-CN, ja;q=0.9") == "en"
    assert negotiate("de;q=0, it;q=0.1") == "it"
    assert negotiate(None) == "en"
    assert choose("es", "it", "de") == "es"
    assert choose("xx", "it", "de") == "it"
    assert choose(None, None, "fr-CA") == "fr"
