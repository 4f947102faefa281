"""A week's attendance as one form: a box per participant, saved in one request.

What a save does is worked out against what is recorded when it arrives, not when the page
was drawn: a box for someone not yet recorded adds their entry; a box changed for someone
already recorded is a correction, which needs a reason and is only for registrars and admins;
a box left as recorded changes nothing. Everything is written in one save, or nothing is:
every refused entry is listed with the person it concerns.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from ledger.console.programme_read import ProgrammeView
from ledger.domain.actors import Actor
from ledger.domain.errors import BatchRefused, DomainError
from ledger.service import LedgerService, Receipt


@dataclass(frozen=True)
class SheetRow:
    """One participant's line of the week's form."""

    person_id: str
    name: str
    active: bool
    recorded: bool | None
    ticked: bool
    editable: bool

    @property
    def box_id(self) -> str:
        return f"attended-{self.person_id}"

    @property
    def recorded_text(self) -> str:
        if self.recorded is None:
            return "not recorded yet"
        return "recorded as attended" if self.recorded else "recorded as absent"


def box_id(person_id: str) -> str:
    return f"attended-{person_id}"


def sheet_rows(
    programme: ProgrammeView,
    week: int,
    *,
    may_correct: bool,
    ticked: Collection[str] | None = None,
) -> list[SheetRow]:
    """The form's lines, by name. A box shows what is recorded, or with `ticked` (the
    answers of a form sent back with an error) what was posted. Recorded entries are
    editable only by those who may correct them."""
    rows = []
    for person in programme.participants:
        recorded = person.attendance.get(week)
        shown = recorded is True if ticked is None else person.person_id in ticked
        rows.append(
            SheetRow(
                person_id=person.person_id,
                name=person.name,
                active=person.active,
                recorded=recorded,
                ticked=shown,
                editable=person.active and (recorded is None or may_correct),
            )
        )
    return rows


@dataclass(frozen=True)
class WeekChanges:
    """New entries (people not yet recorded) and corrections (recorded, now different)."""

    new: tuple[tuple[str, bool], ...]
    corrected: tuple[tuple[str, bool], ...]

    @property
    def empty(self) -> bool:
        return not self.new and not self.corrected


def recorded_now(
    service: LedgerService, programme_id: str, people: Iterable[str], week: int
) -> dict[str, bool | None]:
    """What the ledger holds now for `week`, per person (None: nothing recorded, or no such
    enrolment, which the command then refuses by name)."""
    found: dict[str, bool | None] = {}
    for person_id in people:
        try:
            entry = service.enrolment(programme_id, person_id).attendance.get(week)
        except DomainError:
            entry = None
        found[person_id] = None if entry is None else entry.attended
    return found


def week_changes(
    shown: Iterable[str], ticked: Collection[str], recorded: Mapping[str, bool | None]
) -> WeekChanges:
    """What saving the form changes: each person shown, ticked or not, against what is
    recorded for them."""
    new: list[tuple[str, bool]] = []
    corrected: list[tuple[str, bool]] = []
    for person_id in dict.fromkeys(shown):
        attended = person_id in ticked
        before = recorded.get(person_id)
        if before is None:
            new.append((person_id, attended))
        elif before != attended:
            corrected.append((person_id, attended))
    return WeekChanges(tuple(new), tuple(corrected))


def save_week(
    service: LedgerService,
    actor: Actor,
    programme_id: str,
    week: int,
    changes: WeekChanges,
    reason: str,
) -> Receipt:
    """Record the new entries and the corrections in one save. Raises `BatchRefused` naming
    every refused person (nothing written), or the refusal of the week as a whole (a week
    not started, a tutor the programme's policy does not let record)."""
    if not changes.corrected:
        return service.record_week_attendance(actor, programme_id, week, changes.new)
    batch = service.batch()
    problems: list[tuple[str, DomainError]] = []
    if changes.new:
        try:
            batch.service.record_week_attendance(actor, programme_id, week, changes.new)
        except BatchRefused as refused:
            problems.extend(refused.problems)
    for person_id, attended in changes.corrected:
        try:
            batch.service.correct_attendance(actor, programme_id, person_id, week, attended, reason)
        except DomainError as refused:
            problems.append((person_id, refused))
    if problems:
        raise BatchRefused(problems)
    return batch.commit(programme_id)
