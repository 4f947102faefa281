"""Finding people although their names are encrypted: a blind index of keyed hashes."""

from ledger.search.directory import BlindDirectory, open_directory
from ledger.search.indexer import PeopleIndexer

__all__ = ["BlindDirectory", "PeopleIndexer", "open_directory"]
