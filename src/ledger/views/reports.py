"""The reports the Foundation publishes: certificates counted by programme, region, country,
kind or status on a date, over time, and in one sentence ("31 Associate Trainers from 19
regions").

Everything is counted from the certificate register as it stands on the date asked (`as_of`),
so a report for a past date gives the same counts whenever it is run, corrections aside. A
holder merged into another person counts as that person. Nothing personal is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.domain.calendar import add_months
from ledger.views.lists import Register
from ledger.views.queries import Queries, QueryError

KINDS = ("associate_trainer", "licence", "instructor")
STATUSES = ("valid", "suspended", "expired", "revoked")
GROUPINGS = ("programme", "region", "country", "kind", "status")
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
MOST_PERIODS = 600
NONE = "none"
"""The group of certificates without the grouped member (an Instructor has no programme)."""

PEOPLE = {
    "associate_trainer": ("Associate Trainer", "Associate Trainers"),
    "licence": ("Licensed Trainer", "Licensed Trainers"),
    "instructor": ("Instructor", "Instructors"),
}


def _group_of(item: dict[str, Any], by: str) -> str:
    member = {"programme": "programme_id"}.get(by, by)
    return str(item.get(member) or NONE)


def counts(queries: Queries, by: str, as_of: date, status: str | None = "valid") -> dict[str, Any]:
    """Certificates on `as_of` of `status` (None: any status) counted per `by` value and kind.
    Grouped by status, every status is counted; certificates not yet issued never are."""
    if by not in GROUPINGS:
        raise QueryError("by", f"must be one of {', '.join(GROUPINGS)}")
    wanted = None if by == "status" else status
    table: dict[str, Counter[str]] = {}
    for _, item in Register.read(queries).on(as_of):
        if item["status"] == "unknown" or (wanted is not None and item["status"] != wanted):
            continue
        table.setdefault(_group_of(item, by), Counter())[item["kind"]] += 1
    titles = _programme_titles(queries) if by == "programme" else {}
    groups: list[dict[str, Any]] = [
        {
            "value": value,
            **({"title": titles.get(value)} if by == "programme" else {}),
            **{kind: table[value][kind] for kind in KINDS},
            "total": sum(table[value].values()),
        }
        for value in sorted(table)
    ]
    totals = {kind: sum(g[kind] for g in groups) for kind in KINDS}
    return {
        "as_of": as_of.isoformat(),
        "by": by,
        "status": None if by == "status" else status,
        "groups": groups,
        "totals": {**totals, "total": sum(totals.values())},
    }


def _programme_titles(queries: Queries) -> dict[str, str]:
    return {
        programme_id: row["title"]
        for programme_id, row in queries.rows("programme_roster", "programmes")
    }


def counts_csv(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    by = report["by"]
    header = [by, *(["title"] if by == "programme" else []), *KINDS, "total"]
    member = {by: "value"}
    return header, [[group[member.get(c, c)] for c in header] for group in report["groups"]]


# -- over time --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    starts_on: date
    ends_on: date


def periods(start: date, end: date, every: str) -> Iterator[Period]:
    """The calendar months, quarters or years from the one holding `start` to the one holding
    `end` (the last one ends on `end`)."""
    months = PERIOD_MONTHS[every]
    first_month = (start.month - 1) // months * months + 1
    current = date(start.year, first_month, 1)
    while current <= end:
        following = add_months(current, months)
        if every == "month":
            label = f"{current.year}-{current.month:02d}"
        elif every == "quarter":
            label = f"{current.year}-Q{(current.month - 1) // 3 + 1}"
        else:
            label = str(current.year)
        yield Period(label, current, min(following - timedelta(days=1), end))
        current = following


def timeline(
    queries: Queries, start: date | None, end: date, every: str, by: str = "kind"
) -> dict[str, Any]:
    """Per period: certificates valid on its last day, and certificates issued within it,
    per `by` value."""
    if every not in PERIOD_MONTHS:
        raise QueryError("every", f"must be one of {', '.join(PERIOD_MONTHS)}")
    if by not in ("programme", "region", "country", "kind"):
        raise QueryError("by", "must be one of programme, region, country, kind")
    register = Register.read(queries)
    facts = register.on(end)
    if start is None:
        start = min((date.fromisoformat(i["issued_on"]) for _, i in facts), default=end)
    if start > end:
        raise QueryError("from", f"{start} is after to ({end})")
    spans = list(periods(start, end, every))
    if len(spans) > MOST_PERIODS:
        raise QueryError("every", f"{len(spans)} periods asked, at most {MOST_PERIODS}")
    groups = list(KINDS) if by == "kind" else sorted({_group_of(item, by) for _, item in facts})
    rows = []
    for span in spans:
        valid: Counter[str] = Counter()
        for _, item in register.on(span.ends_on):
            if item["status"] == "valid":
                valid[_group_of(item, by)] += 1
        issued: Counter[str] = Counter(
            _group_of(item, by)
            for _, item in facts
            if span.starts_on.isoformat() <= item["issued_on"] <= span.ends_on.isoformat()
        )
        rows.append(
            {
                "period": span.label,
                "starts_on": span.starts_on.isoformat(),
                "ends_on": span.ends_on.isoformat(),
                "valid": {group: valid[group] for group in groups},
                "issued": {group: issued[group] for group in groups},
            }
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "every": every,
        "by": by,
        "groups": groups,
        "periods": rows,
    }


def timeline_csv(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    groups = report["groups"]
    header = [
        "period",
        "starts_on",
        "ends_on",
        *(f"valid {g}" for g in groups),
        *(f"issued {g}" for g in groups),
    ]
    rows = [
        [
            row["period"],
            row["starts_on"],
            row["ends_on"],
            *(row["valid"][g] for g in groups),
            *(row["issued"][g] for g in groups),
        ]
        for row in report["periods"]
    ]
    return header, rows


# -- in one sentence ------------------------------------------------------------------------------


def summary(queries: Queries, as_of: date) -> dict[str, Any]:
    """People holding a valid certificate of each kind on `as_of`, the regions and countries
    they come from, and the sentence that says it."""
    holders: dict[str, dict[str, tuple[str | None, str | None]]] = {kind: {} for kind in KINDS}
    for _, item in Register.read(queries).on(as_of):
        if item["status"] == "valid":
            holders[item["kind"]][item["holder_id"]] = (item["region"], item["country"])
    kinds = {
        kind: {
            "people": len(people),
            "regions": len({region for region, _ in people.values() if region}),
            "countries": len({country for _, country in people.values() if country}),
        }
        for kind, people in holders.items()
    }
    return {"as_of": as_of.isoformat(), "kinds": kinds, "sentence": sentence(kinds, as_of)}


def sentence(kinds: dict[str, dict[str, int]], as_of: date) -> str:
    """ "31 Associate Trainers from 19 regions and 12 Licensed Trainers from 8 regions"."""
    parts = []
    for kind in KINDS:
        people, regions = kinds[kind]["people"], kinds[kind]["regions"]
        if people:
            one, many = PEOPLE[kind]
            parts.append(
                f"{people} {one if people == 1 else many}"
                f" from {regions} region{'' if regions == 1 else 's'}"
            )
    if not parts:
        return f"No valid certificates on {as_of.isoformat()}"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
