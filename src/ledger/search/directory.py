"""The people directory as a blind index: find people by name, email or organisation, and spot
possible duplicates, while the database holds only keyed hashes of folded words."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ledger.config import Settings
from ledger.db import Database
from ledger.integrity.keyring import KeyDirectory
from ledger.search.storage import IndexStorage
from ledger.search.tokens import Tokens, index_key

PERSON_KEK = "person-kek"


class BlindDirectory:
    """`ledger.service.PeopleDirectory` over `IndexStorage`. Erasure (`remove`) takes effect at
    once and for good: the person is neither found nor offered as a duplicate again."""

    def __init__(self, storage: IndexStorage, tokens: Tokens) -> None:
        self.storage = storage
        self.tokens = tokens
        self._local = threading.local()  # this thread's prefetched holders, if any

    def add(self, person_id: str, name: str, email: str, organisation: str) -> None:
        self.add_many([(person_id, name, email, organisation)])

    def add_many(self, people: Iterable[tuple[str, str, str, str]]) -> list[str]:
        """Index several people in one write: (person_id, name, email, organisation) each.
        Returns the ids indexed (erased people are not)."""
        self._local.holders = None
        return self.storage.put(
            {
                person_id: self.tokens.of_person(name, email, organisation)
                for person_id, name, email, organisation in people
            }
        )

    def remove(self, person_id: str) -> None:
        self._local.holders = None
        self.storage.erase(person_id)

    def duplicates(self, name: str, email: str, organisation: str) -> list[str]:
        """People whose folded email equals `email`'s, or whose folded name and organisation
        both equal these."""
        tokens = self.tokens.of_duplicate(name, email, organisation)
        holders: dict[str, set[str]] | None = getattr(self._local, "holders", None)
        if holders is not None and all(token in holders for token in tokens):
            return sorted({person for token in tokens for person in holders[token]})
        return self.storage.matching_any(tokens)

    @contextmanager
    def prefetched(self, rows: Iterable[tuple[str, str, str]]) -> Iterator[None]:
        """Within the block, this thread's `duplicates` of these (name, email, organisation)
        rows are answered from one read made on entry (an import checks a whole file: one
        query instead of one or two per row). Other rows, and other threads, read as usual."""
        tokens = {token for row in rows for token in self.tokens.of_duplicate(*row)}
        self._local.holders = self.storage.holders(sorted(tokens))
        try:
            yield
        finally:
            self._local.holders = None

    def search(self, query: str, limit: int) -> list[str]:
        """People matching every word of `query` (as a whole word or the start of one, without
        case or accents; a piece with "@" as a whole email), whole-word matches first."""
        return self.storage.matching_all(self.tokens.of_query(query), limit)


def open_directory(settings: Settings, db: Database) -> BlindDirectory:
    """The directory of the ledger `settings` describes, its key derived from the key folder."""
    tokens = Tokens(index_key(KeyDirectory(settings.keys_dir).secret(PERSON_KEK)))
    return BlindDirectory(IndexStorage(db, tokens.key_check()), tokens)
