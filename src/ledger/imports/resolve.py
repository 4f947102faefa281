"""Finding what a row names: a programme by its id or exact title, a person by email."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import AbstractContextManager
from difflib import get_close_matches
from typing import Protocol
from uuid import UUID

from ledger.domain.errors import NotFound
from ledger.domain.folding import fold, fold_email
from ledger.domain.person import Person
from ledger.imports.rows import Cells
from ledger.service import LedgerService
from ledger.views.queries import Queries


class PeopleByEmail(Protocol):
    """The part of the people directory an import needs (`ledger.search`)."""

    def duplicates(self, name: str, email: str, organisation: str) -> list[str]: ...

    def prefetched(self, rows: Iterable[tuple[str, str, str]]) -> AbstractContextManager[None]:
        """A block in which `duplicates` of these rows need no further reads."""
        ...


class Resolver:
    """Resolves the programme and email cells of rows, through the batch's service (so what
    the batch has recorded is seen) and the people directory (who was registered before)."""

    def __init__(
        self,
        service: LedgerService,
        people: PeopleByEmail,
        programmes: Iterable[tuple[str, str]],
    ) -> None:
        self.service = service
        self.people = people
        self.by_title: dict[str, list[str]] = defaultdict(list)
        for programme_id, title in programmes:
            self.by_title[title.strip()].append(programme_id)
        self._programmes: dict[str, str | None] = {}

    def programme(self, cells: Cells, column: str = "programme") -> str | None:
        """The id of the programme the cell names, or None with a problem noted."""
        value = cells.optional(column)
        if value is None:
            return None
        if value not in self._programmes:
            self._programmes[value] = self._programme(cells, column, value)
        elif self._programmes[value] is None:
            self._programme(cells, column, value)  # note the problem on this row too
        return self._programmes[value]

    def _programme(self, cells: Cells, column: str, value: str) -> str | None:
        try:
            ident = UUID(value)
        except ValueError:
            found = self.by_title.get(value, [])
            if len(found) == 1:
                return found[0]
            if found:
                cells.problem(
                    column,
                    f"{len(found)} programmes have this title (ids {', '.join(sorted(found))});"
                    " give the id of the one meant",
                )
            else:
                cells.problem(column, self._unknown_title(value))
            return None
        try:
            return str(self.service.programme(ident).id)
        except NotFound:
            cells.problem(column, f"no programme has the id {ident}")
            return None

    def _unknown_title(self, value: str) -> str:
        """Why a title names no programme, with the nearest title when one is close (a title
        typed by hand often differs by a hyphen or a word)."""
        near = get_close_matches(fold(value), [fold(t) for t in self.by_title], n=1, cutoff=0.6)
        hint = ""
        if near:
            title = next(t for t in self.by_title if fold(t) == near[0])
            hint = f"; did you mean {title!r}?"
        return (
            "no programme has this title; give a programme's id or its exact title"
            f" (GET /v1/programmes lists them){hint}"
        )

    def person(self, cells: Cells, email: str, column: str = "email") -> str | None:
        """The id of the one person registered with `email` (compared folded), or None; with a
        problem noted when several are. A person marked as a duplicate stands for the person
        kept."""
        found = sorted({kept(person) for person in self.with_email(email)})
        if len(found) > 1:
            cells.problem(
                column,
                f"{len(found)} people are registered with this email (ids {', '.join(found)});"
                " mark the duplicates first",
            )
            return None
        return found[0] if found else None

    def with_email(self, email: str) -> list[Person]:
        """The people, not erased, registered with `email`. The directory proposes; each
        person's own record decides (the directory also matches on name and organisation)."""
        wanted = fold_email(email)
        found = []
        for person_id in self.people.duplicates("", email, ""):
            person = self.service.person(person_id)
            if not person.erased and fold_email(person.email) == wanted:
                found.append(person)
        return found


def kept(person: Person) -> str:
    """The id the person's records are kept under: their own, or the person kept when they
    were registered twice."""
    return person.duplicate_of or str(person.id)


def programme_titles(queries: Queries) -> list[tuple[str, str]]:
    """(id, title) of every programme, as the roster projection knows them."""
    return [
        (ident, str(row["title"])) for ident, row in queries.rows("programme_roster", "programmes")
    ]
