"""Paged, filterable lists of people, programmes, field projects, enrolments and certificates,
read from the projections.

Every list answers a `Page`: the items after the cursor, the total matching the filters, and
the cursor of the next page (None on the last). A cursor is opaque to clients: it names the last
key shown, so a page stays stable while records are added elsewhere in the list.

People are rows of the trainer status projection, which hold nothing personal: names, emails
and organisations are decrypted from each person's own record for the page shown only. A person
marked as a duplicate of another is listed as the kept person.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ledger.domain.folding import fold
from ledger.domain.person import Person
from ledger.views.queries import Queries, QueryError, kept_in
from ledger.views.roster import project_out, weeks_attended
from projections.base import Row
from projections.facts import status_on

SEARCH_LIMIT = 1000
"""At most this many people are taken from a search, best first, before filters and pages."""

Keyed = list[tuple[str, dict[str, Any]]]


class PeopleSearch(Protocol):
    """What lists need of the people directory (`ledger.service.PeopleDirectory`)."""

    def search(self, query: str, limit: int) -> list[str]: ...


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None

    def out(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "next_cursor": self.next_cursor}


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise QueryError("cursor", "is not a cursor this list gave") from None


def page_of(keyed: Keyed, limit: int, cursor: str | None) -> Page:
    """The page of `keyed` (ordered by key) after `cursor`, at most `limit` items long."""
    keys = [key for key, _ in keyed]
    start = 0 if cursor is None else bisect.bisect_right(keys, decode_cursor(cursor))
    shown = keyed[start : start + limit]
    more = start + limit < len(keyed)
    return Page(
        [item for _, item in shown],
        len(keyed),
        encode_cursor(shown[-1][0]) if shown and more else None,
    )


def _same(text: str | None, wanted: str | None) -> bool:
    return wanted is None or fold(text or "") == fold(wanted)


# -- people ----------------------------------------------------------------------------------


def people(
    queries: Queries,
    people_of: Callable[[list[str]], Mapping[str, Person]],
    *,
    limit: int,
    cursor: str | None = None,
    q: str | None = None,
    region: str | None = None,
    country: str | None = None,
    programme: str | None = None,
    directory: PeopleSearch | None = None,
) -> Page:
    """People matching the filters; with `q`, those the directory finds, best match first
    (only the rows of the people found are read)."""
    if q is not None and q.strip():
        if directory is None:
            raise QueryError("q", "searching needs the people directory, which is not open")
        hits = directory.search(q, SEARCH_LIMIT)
        found = _found_people(_kept_rows(queries, hits), hits)
        keyed: Keyed = [(f"{rank:06d}", {"person_id": p}) for rank, p in enumerate(found)]
        if region is None and country is None and programme is None:
            # Only the page's rows are read: a prefix may match a thousand people.
            page = page_of(keyed, limit, cursor)
            shown = queries.rows_for(
                "trainer_status", "trainers", [i["person_id"] for i in page.items]
            )
            page.items[:] = [item for item in page.items if item["person_id"] in shown]
            _add_cards(page, people_of, shown)
            return page
        trainers = queries.rows_for("trainer_status", "trainers", found)
        keyed = [(key, item) for key, item in keyed if item["person_id"] in trainers]
    else:
        trainers = dict(queries.rows("trainer_status", "trainers"))
        keyed = [
            (person_id, {"person_id": person_id})
            for person_id, row in trainers.items()
            if not row.get("duplicate_of")
        ]
    enrolled = None
    if programme is not None:
        members = [
            str(row["person"])
            for _, row in queries.rows("programme_roster", "enrolments", programme)
        ]
        marked = _kept_rows(queries, members)
        enrolled = {kept_in(marked.get, member) for member in members}
    keyed = [
        (key, item)
        for key, item in keyed
        if _same(trainers[item["person_id"]].get("region"), region)
        and _same(trainers[item["person_id"]].get("country"), country)
        and (enrolled is None or item["person_id"] in enrolled)
    ]
    page = page_of(keyed, limit, cursor)
    _add_cards(page, people_of, trainers)
    return page


def _add_cards(
    page: Page,
    people_of: Callable[[list[str]], Mapping[str, Person]],
    rows: Mapping[str, Row],
) -> None:
    """Each item's person card, the page's people read together."""
    people = people_of([item["person_id"] for item in page.items])
    for item in page.items:
        item.update(person_card(people[item["person_id"]], rows[item["person_id"]]))


DUPLICATE_MARK = '"duplicate_of":"'
"""How a trainer row of a person marked as a duplicate reads in its canonical JSON."""


def _kept_rows(queries: Queries, people: Iterable[str]) -> dict[str, Row]:
    """The trainer rows of those of `people` marked as duplicates, and of the people they were
    merged into, in turn: all that is needed to read each as the person kept."""
    rows = queries.rows_for("trainer_status", "trainers", list(people), DUPLICATE_MARK)
    asked = set(rows)
    wanted = {str(row["duplicate_of"]) for row in rows.values()} - asked
    while wanted:
        asked |= wanted
        rows.update(queries.rows_for("trainer_status", "trainers", wanted))
        wanted = {str(row["duplicate_of"]) for row in rows.values() if row.get("duplicate_of")}
        wanted -= asked
    return rows


def _found_people(marked: dict[str, Row], found: Iterable[str]) -> list[str]:
    """Search hits as the people they read as, each once, in the order found (`marked`: the
    rows of hits marked as duplicates and of the people kept)."""
    kept: list[str] = []
    seen: set[str] = set()
    for person_id in found:
        person = kept_in(marked.get, person_id)
        if person not in seen:
            seen.add(person)
            kept.append(person)
    return kept


def person_card(person: Person, row: Row) -> dict[str, Any]:
    """A person as staff see them in a list: decrypted personal data, region and merges."""
    return {
        "person_id": str(person.id),
        "name": person.name,
        "email": person.email,
        "organisation": person.organisation,
        "region": person.region,
        "country": person.country,
        "erased": bool(person.erased),
        "merged": list(row.get("merged") or []),
    }


# -- programmes, projects, enrolments ----------------------------------------------------------


def programmes(queries: Queries, *, limit: int, cursor: str | None = None) -> Page:
    keyed: Keyed = [
        (programme_id, {"programme_id": programme_id, **row})
        for programme_id, row in queries.rows("programme_roster", "programmes")
    ]
    page = page_of(keyed, limit, cursor)
    for item in page.items:
        enrolled = queries.rows("programme_roster", "enrolments", item["programme_id"])
        item["weeks_scheduled"] = len(item.pop("weeks"))
        item["enrolments"] = len(enrolled)
        item["active_enrolments"] = sum(1 for _, row in enrolled if row["active"])
        item["projects"] = len(queries.rows("programme_roster", "projects", item["programme_id"]))
    return page


def projects(
    queries: Queries,
    *,
    limit: int,
    cursor: str | None = None,
    programme: str | None = None,
    status: str | None = None,
) -> Page:
    keyed: Keyed = [
        (
            project_id,
            {
                **project_out({"project_id": project_id, **row}),
                "programme_id": row["programme"],
                "sector": row["sector"],
                "region": row["region"],
                "country": row["country"],
            },
        )
        for project_id, row in queries.rows("programme_roster", "projects", programme)
        if status is None or row["status"] == status
    ]
    return page_of(keyed, limit, cursor)


def enrolments(
    queries: Queries,
    *,
    limit: int,
    cursor: str | None = None,
    programme: str | None = None,
    person: str | None = None,
    active: bool | None = None,
) -> Page:
    """Enrolments; `person` also finds those of people merged into that person."""
    people_wanted = None if person is None else {person, *queries.merged_into(person)}
    keyed: Keyed = [
        (enrolment_id, enrolment_out(enrolment_id, row))
        for enrolment_id, row in queries.rows("programme_roster", "enrolments", programme)
        if (people_wanted is None or row["person"] in people_wanted)
        and (active is None or bool(row["active"]) == active)
    ]
    return page_of(keyed, limit, cursor)


def enrolment_out(enrolment_id: str, row: Row) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment_id,
        "programme_id": row["programme"],
        "person_id": row["person"],
        "consortium": row["consortium"],
        "active": bool(row["active"]),
        "weeks_attended": weeks_attended(row),
        "attendance": dict(row["attendance"]),
        "corrections": len(row.get("corrections") or []),
        "project_id": row["project"],
        "certificate_id": row["certificate"],
    }


# -- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFilter:
    kind: str | None = None
    status: str | None = None
    programme: str | None = None
    holder: str | None = None


@dataclass(frozen=True)
class Register:
    """The certificate register and the trainer rows, read once, to be looked at on any date."""

    facts: list[tuple[str, Row]]
    trainers: dict[str, Row]

    @classmethod
    def read(cls, queries: Queries) -> Register:
        return cls(
            queries.rows("certificate_register", "certificates"),
            dict(queries.rows("trainer_status", "trainers")),
        )

    def _merged(self, person_id: str) -> set[str]:
        return {person_id, *(self.trainers.get(person_id) or {}).get("merged", [])}

    def on(self, as_of: date, wanted: CertificateFilter = CertificateFilter()) -> Keyed:
        """The certificates on `as_of`, by id: facts, status on that date, and holder (as the
        kept person) with region and country. A status reason is left out: it may be
        personal."""
        holders = None if wanted.holder is None else self._merged(wanted.holder)
        keyed: Keyed = []
        for certificate_id, facts in self.facts:
            if wanted.kind is not None and facts["kind"] != wanted.kind:
                continue
            if wanted.programme is not None and facts.get("programme") != wanted.programme:
                continue
            if holders is not None and facts["holder"] not in holders:
                continue
            status = status_on(facts, as_of)
            if wanted.status is not None and status["status"] != wanted.status:
                continue
            holder = kept_in(self.trainers.get, facts["holder"])
            trainer = self.trainers.get(holder) or {}
            keyed.append(
                (
                    certificate_id,
                    {
                        "certificate_id": certificate_id,
                        "kind": facts["kind"],
                        "holder_id": holder,
                        "recorded_holder_id": facts["holder"],
                        "programme_id": facts.get("programme"),
                        "issued_on": facts["issued_on"],
                        "valid_from": facts["valid_from"],
                        "valid_until": facts["valid_until"],
                        "revoked_on": facts["revoked_on"],
                        "status": status["status"],
                        "since": status["since"],
                        "until": status["until"],
                        "region": trainer.get("region"),
                        "country": trainer.get("country"),
                    },
                )
            )
        return keyed


def certificates(
    queries: Queries,
    as_of: date,
    wanted: CertificateFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page:
    return page_of(Register.read(queries).on(as_of, wanted), limit, cursor)


CERTIFICATE_CSV_HEADER = (
    "certificate_id",
    "kind",
    "status",
    "since",
    "until",
    "holder_id",
    "holder_name",
    "region",
    "country",
    "programme_id",
    "issued_on",
    "valid_from",
    "valid_until",
    "revoked_on",
)


def certificate_csv_rows(keyed: Keyed, name_of: Callable[[str], str]) -> list[list[Any]]:
    """The certificate register as rows of `CERTIFICATE_CSV_HEADER` (for staff: names)."""
    names: dict[str, str] = {}
    rows = []
    for _, item in keyed:
        holder = item["holder_id"]
        if holder not in names:
            names[holder] = name_of(holder)
        rows.append([{**item, "holder_name": names[holder]}[c] for c in CERTIFICATE_CSV_HEADER])
    return rows
