"""Blind-index tokens: keyed hashes of folded words, so people can be found by name, email or
organisation although none of these is stored in clear outside the encrypted records.

A person contributes labelled terms, each folded (`ledger.domain.folding`): `term:<word>` for
every word of the name and the organisation and of the email's local part, `term:<prefix>` for
every prefix of three characters or more of those words (type-ahead), and two exact-match terms
for duplicate detection, `email:<folded email>` and `name-org:<folded name>|<folded
organisation>`. A term is stored only as its token, the first 16 bytes of HMAC-SHA256 under the
index key. The index key is derived with HKDF-SHA256 from the key that wraps the per-person keys,
under its own label: it lives only in this process's memory, never in a file, log or database.
Without it a token says nothing; with it, a guessed name can be confirmed, as for any blind index.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.domain.folding import fold, fold_email, words

INDEX_KEY_INFO = b"ledger people search index v1"
MIN_PREFIX = 3
TOKEN_BYTES = 16

TERM = "term"
EMAIL = "email"
NAME_ORG = "name-org"


def index_key(kek: bytes) -> bytes:
    """The search index key: HKDF-SHA256 of the person key-encryption key, labelled for this use
    only, so a token reveals nothing about the key that wraps the people's data keys."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INDEX_KEY_INFO).derive(kek)


def _word_terms(text: str) -> dict[str, bool]:
    """`term:` terms of every word of `text` (exact) and of their prefixes (not exact)."""
    found: dict[str, bool] = {}
    for word in words(text):
        for end in range(MIN_PREFIX, len(word)):
            found.setdefault(f"{TERM}:{word[:end]}", False)
        found[f"{TERM}:{word}"] = True
    return found


def email_term(email: str) -> str:
    return f"{EMAIL}:{fold_email(email)}"


def name_org_term(name: str, organisation: str) -> str:
    return f"{NAME_ORG}:{fold(name)}|{fold(organisation)}"


def person_terms(name: str, email: str, organisation: str) -> dict[str, bool]:
    """Every term a person is found by, and whether it is a whole word or exact value (True)
    or only a prefix (False). A term that is both counts as exact."""
    local = fold_email(email).partition("@")[0]
    found: dict[str, bool] = {}
    for text in (name, organisation, local):
        for term, exact in _word_terms(text).items():
            found[term] = found.get(term, False) or exact
    found[email_term(email)] = True
    found[name_org_term(name, organisation)] = True
    return found


def query_terms(query: str) -> list[str]:
    """The terms a search asks for, every one of which must match. A piece holding "@" is an
    email address, matched whole; any other piece matches by its folded words (as whole words
    or as prefixes of longer ones)."""
    found: list[str] = []
    for piece in query.split():
        terms = [email_term(piece)] if "@" in piece else [f"{TERM}:{w}" for w in words(piece)]
        found += [t for t in terms if t not in found]
    return found


def duplicate_terms(name: str, email: str, organisation: str) -> list[str]:
    """The terms of a possible duplicate: the same email, or the same name and organisation."""
    return [email_term(email), name_org_term(name, organisation)]


class Tokens:
    """Turns terms into tokens under the index key (which this object never shows)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Tokens(<index key>)"

    def token(self, term: str) -> str:
        digest = hmac.new(self._key, term.encode("utf-8"), hashlib.sha256).digest()
        return digest[:TOKEN_BYTES].hex()

    def of_person(self, name: str, email: str, organisation: str) -> dict[str, bool]:
        return {
            self.token(term): exact
            for term, exact in person_terms(name, email, organisation).items()
        }

    def of_query(self, query: str) -> list[str]:
        return [self.token(term) for term in query_terms(query)]

    def of_duplicate(self, name: str, email: str, organisation: str) -> list[str]:
        return [self.token(term) for term in duplicate_terms(name, email, organisation)]

    def key_check(self) -> str:
        """A value that changes with the index key and does not reveal it: an index built
        under another key (another key folder) is rebuilt rather than trusted."""
        return self.token("key-check:")
