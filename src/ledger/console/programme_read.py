"""A programme as its pages show it: weeks written out, participants by name with where they
stand, and field projects as cards with their tutor, team and sign-off state.

Read from the roster projection (`ledger.views.roster`), the same read model the API answers
from; names are decrypted from each person's own record, for staff pages only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.console.frame import MONTHS, long_date
from ledger.domain.errors import DomainError
from ledger.runtime import Runtime
from ledger.views.roster import describe_roster
from projections.base import Row


def date_range(starts_on: date, ends_on: date) -> str:
    """Two dates as people write a span: "10 to 14 March 2025", "28 February to 4 March
    2025", "29 December 2025 to 2 January 2026"."""
    if starts_on == ends_on:
        return long_date(starts_on)
    if starts_on.year != ends_on.year:
        return f"{long_date(starts_on)} to {long_date(ends_on)}"
    if starts_on.month != ends_on.month:
        return f"{starts_on.day} {MONTHS[starts_on.month - 1]} to {long_date(ends_on)}"
    return f"{starts_on.day} to {long_date(ends_on)}"


class Names:
    """People's names for staff pages, each decrypted once per page."""

    def __init__(self, runtime: Runtime) -> None:
        self._service = runtime.service
        self._known: dict[str, str] = {}

    def __call__(self, person_id: str) -> str:
        if person_id not in self._known:
            try:
                self._known[person_id] = self._service.person(person_id).name
            except DomainError:  # no such person, or not an id at all
                self._known[person_id] = f"person {person_id}"
        return self._known[person_id]


@dataclass(frozen=True)
class WeekView:
    number: int
    starts_on: date
    ends_on: date
    place: str
    modules: tuple[str, ...]

    @property
    def dates(self) -> str:
        return date_range(self.starts_on, self.ends_on)

    @property
    def legend(self) -> str:
        """ "Week 3, 10 to 14 March 2025, Barcelona"."""
        return f"Week {self.number}, {self.dates}, {self.place}"


@dataclass(frozen=True)
class ParticipantView:
    person_id: str
    name: str
    active: bool
    attendance: dict[int, bool]
    weeks_attended: int
    weeks_required: int
    weeks_total: int
    corrections: int
    project_id: str | None
    project_title: str | None
    awarded_id: str | None
    awarded_on: str | None
    missing: tuple[str, ...]

    def mark(self, week: int) -> str:
        """The week's entry in words: attended, absent or not recorded."""
        found = self.attendance.get(week)
        if found is None:
            return "not recorded"
        return "attended" if found else "absent"


@dataclass(frozen=True)
class ProjectCard:
    project_id: str
    programme_id: str
    cluster_initiative: str
    sector: str
    region: str
    country: str
    tutor_id: str | None
    tutor_name: str | None
    members: tuple[tuple[str, str], ...]
    status: str
    signed_off_on: str | None
    returned_on: str | None
    withdrawn_on: str | None

    @property
    def status_text(self) -> str:
        """The sign-off state with its date, as the roster words it."""
        if self.status == "signed_off":
            return f"Signed off on {long_date(self.signed_off_on)}"
        if self.status == "returned_for_rework":
            when = f" on {long_date(self.returned_on)}" if self.returned_on else ""
            return f"Returned for rework{when}"
        if self.withdrawn_on:
            return f"Open (sign-off withdrawn on {long_date(self.withdrawn_on)})"
        return "Open"

    @property
    def tag(self) -> str:
        """The CSS tag of the state: done, waiting for rework, or open."""
        return {"signed_off": "valid", "returned_for_rework": "suspended"}.get(
            self.status, "unknown"
        )

    def tutored_by(self, person_id: str | None) -> bool:
        return person_id is not None and self.tutor_id == person_id


def project_card(project_id: str, row: Row, name_of: Callable[[str], str]) -> ProjectCard:
    tutor = row.get("tutor")
    return ProjectCard(
        project_id=project_id,
        programme_id=str(row["programme"]),
        cluster_initiative=str(row["cluster_initiative"]),
        sector=str(row["sector"]),
        region=str(row["region"]),
        country=str(row["country"]),
        tutor_id=None if tutor is None else str(tutor),
        tutor_name=None if tutor is None else name_of(str(tutor)),
        members=tuple((str(m), name_of(str(m))) for m in row["members"]),
        status=str(row["status"]),
        signed_off_on=row.get("signed_off_on"),
        returned_on=row.get("returned_on"),
        withdrawn_on=row.get("withdrawn_on"),
    )


@dataclass(frozen=True)
class ProgrammeView:
    programme_id: str
    title: str
    starts_on: date
    ends_on: date
    material_version: str
    policy: dict[str, int]
    weeks: tuple[WeekView, ...]
    participants: tuple[ParticipantView, ...]
    projects: tuple[ProjectCard, ...] = field(default=())

    @property
    def dates(self) -> str:
        return date_range(self.starts_on, self.ends_on)

    @property
    def weeks_total(self) -> int:
        return int(self.policy.get("weeks_total", 6))

    @property
    def weeks_required(self) -> int:
        return int(self.policy.get("weeks_required", 5))

    @property
    def team_size(self) -> str:
        least, most = self.policy.get("team_min", 1), self.policy.get("team_max", 3)
        return f"{least} to {most} members" if least != most else f"{least} members"

    @property
    def tutors_record_attendance(self) -> bool:
        return bool(self.policy.get("tutors_record_attendance", 0))

    @property
    def unscheduled(self) -> list[int]:
        """Week numbers not yet scheduled."""
        taken = {w.number for w in self.weeks}
        return [n for n in range(1, self.weeks_total + 1) if n not in taken]

    def week(self, number: int) -> WeekView | None:
        return next((w for w in self.weeks if w.number == number), None)

    def participant(self, person_id: str) -> ParticipantView | None:
        return next((p for p in self.participants if p.person_id == person_id), None)

    def tutors(self) -> set[str]:
        return {p.tutor_id for p in self.projects if p.tutor_id is not None}


def _weeks(weeks: Row) -> tuple[WeekView, ...]:
    found = [
        WeekView(
            int(number),
            date.fromisoformat(str(week["starts_on"])),
            date.fromisoformat(str(week["ends_on"])),
            str(week["place"]),
            tuple(week["modules"]),
        )
        for number, week in weeks.items()
    ]
    return tuple(sorted(found, key=lambda w: w.number))


def _participants(entries: Iterable[dict[str, Any]]) -> tuple[ParticipantView, ...]:
    found = []
    for entry in entries:
        project = entry["project"] or {}
        awarded = entry["awarded"] or {}
        found.append(
            ParticipantView(
                person_id=str(entry["person_id"]),
                name=str(entry["name"]),
                active=bool(entry["active"]),
                attendance={int(w): bool(a) for w, a in entry["attendance"].items()},
                weeks_attended=int(entry["weeks_attended"]),
                weeks_required=int(entry["weeks_required"]),
                weeks_total=int(entry["weeks_total"]),
                corrections=int(entry["corrections"]),
                project_id=project.get("project_id"),
                project_title=project.get("cluster_initiative"),
                awarded_id=awarded.get("certificate_id"),
                awarded_on=awarded.get("on"),
                missing=tuple(entry["missing"]),
            )
        )
    return tuple(sorted(found, key=lambda p: (p.name.casefold(), p.person_id)))


def programme_view(runtime: Runtime, programme_id: str) -> ProgrammeView | None:
    """The programme with its weeks, participants (by name) and field projects; None when
    the read models know no such programme."""
    names = Names(runtime)
    described = describe_roster(runtime.queries, programme_id, name_of=names)
    if described is None:
        return None
    projects = runtime.queries.rows("programme_roster", "projects", programme_id)
    return ProgrammeView(
        programme_id=programme_id,
        title=str(described["title"]),
        starts_on=date.fromisoformat(str(described["starts_on"])),
        ends_on=date.fromisoformat(str(described["ends_on"])),
        material_version=str(described["material_version"]),
        policy=dict(described["policy"]),
        weeks=_weeks(described["weeks"]),
        participants=_participants(described["participants"]),
        projects=tuple(
            sorted(
                (project_card(ident, row, names) for ident, row in projects),
                key=lambda p: (p.cluster_initiative.casefold(), p.project_id),
            )
        ),
    )


def find_project(runtime: Runtime, project_id: str) -> ProjectCard | None:
    row = runtime.queries.row("programme_roster", "projects", project_id)
    if row is None:
        return None
    return project_card(project_id, row, Names(runtime))
