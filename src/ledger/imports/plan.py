"""Running every row of a file through one service batch.

Each row is checked on its own (`rows`), then against the ledger as the batch sees it (earlier
rows included), then given to the same service command a single request would call, so a row is
refused for exactly the reasons a request would be. What is already recorded is skipped before
any command runs: a person with the same email, name and organisation, an existing enrolment, an
attendance entry with the same answer. A dry run drops the batch; a commit saves it in one write,
and only when no row has a problem.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from uuid import UUID

from ledger.domain.actors import Actor
from ledger.domain.enrolment import enrolment_id
from ledger.domain.errors import (
    DomainError,
    InvalidCommand,
    NotFound,
    PossibleDuplicate,
    RuleViolation,
)
from ledger.domain.folding import fold, fold_email
from ledger.domain.person import Person
from ledger.imports.columns import ImportKind
from ledger.imports.csv_input import Record, read_table
from ledger.imports.report import ImportReport, RowProblem, UnreadableFile
from ledger.imports.resolve import PeopleByEmail, Resolver, kept
from ledger.imports.rows import Cells, PersonRow, attendance_row, enrolment_row, person_row
from ledger.service import LedgerService
from ledger.service_batch import Batch

COLUMN_OF_FIELD = {
    "name": "name",
    "email": "email",
    "organisation": "organisation",
    "region": "region",
    "country": "country",
    "consortium": "consortium",
    "week": "week",
    "attended": "attended",
    "programme_id": "programme",
    "person_id": "email",
}
"""The column holding what a command's field was given (InvalidCommand names the field)."""

Outcome = bool | None
"""A row's outcome: True when it appends records, False when all is already recorded (skipped),
None when it has a problem."""


def import_csv(
    data: bytes,
    kind: ImportKind,
    *,
    service: LedgerService,
    people: PeopleByEmail,
    programmes: Iterable[tuple[str, str]],
    actor: Actor,
    commit: bool,
) -> ImportReport:
    """Check (and with `commit`, record) every row of `data`; `programmes` are the known
    (id, title) pairs, for rows naming a programme by its title."""
    try:
        table = read_table(data, kind)
    except UnreadableFile as exc:
        return ImportReport(kind, 0, 0, 0, exc.problems)
    batch = service.batch()
    rows = _ROWS[kind](batch, Resolver(batch.service, people, programmes), actor)
    appended = skipped = 0
    problems: list[RowProblem] = []
    with people.prefetched(_lookups(table.records)):
        for record in table.records:
            cells = Cells(record)
            outcome = rows.check(cells)
            problems.extend(cells.problems)
            if cells.problems:
                continue
            if outcome:
                appended += 1
            elif outcome is False:
                skipped += 1
    rows_read = len(table.records)
    if problems or not commit or not appended:
        committed = commit and not problems  # nothing new: committed without a write
        return ImportReport(kind, rows_read, appended, skipped, tuple(problems), committed)
    receipt = batch.commit()
    return ImportReport(kind, rows_read, appended, skipped, (), True, receipt.positions)


def _lookups(records: Iterable[Record]) -> list[tuple[str, str, str]]:
    """The directory lookups the rows will make: a person by email, and for a registration the
    possible duplicates by email or by name and organisation."""
    found = []
    for record in records:
        cells = record.cells
        email = cells.get("email", "").strip()
        if email:
            found.append(("", email, ""))
            name, organisation = cells.get("name", "").strip(), cells.get("organisation", "")
            if name:
                found.append((name, email, organisation.strip()))
    return found


def refused(cells: Cells, column: str, error: DomainError) -> None:
    """Note a command's refusal as the row's problem, in the column at fault."""
    if isinstance(error, RuleViolation):
        cells.problem(column, error.detail, error.rule)
    elif isinstance(error, InvalidCommand):
        cells.problem(COLUMN_OF_FIELD.get(error.field, column), error.detail)
    else:
        cells.problem(column, str(error))


class _Rows(ABC):
    """The checks of one kind of row, with what earlier rows of the file recorded."""

    def __init__(self, batch: Batch[LedgerService], resolve: Resolver, actor: Actor) -> None:
        self.batch = batch
        self.service = batch.service
        self.resolve = resolve
        self.actor = actor
        self.seen: dict[tuple[object, ...], int] = {}

    @abstractmethod
    def check(self, cells: Cells) -> Outcome:
        """Check the row, and record what it adds in the batch."""

    def first(self, cells: Cells, key: tuple[object, ...], column: str, what: str) -> bool:
        """Whether no earlier row has `key`; if one has, note it."""
        earlier = self.seen.setdefault(key, cells.row)
        if earlier != cells.row:
            cells.problem(column, f"{what} as row {earlier}; give each once")
            return False
        return True

    def attempt(self, cells: Cells, column: str, command: Callable[[], object]) -> bool:
        try:
            command()
        except DomainError as exc:
            refused(cells, column, exc)
            return False
        return True

    def enrolled(self, programme_id: str, person_id: str) -> bool:
        return self.service.repo.exists(enrolment_id(UUID(programme_id), UUID(person_id)))

    def person(self, cells: Cells, email: str) -> str | None:
        """The person registered with `email`; a problem when there is none."""
        found = self.resolve.person(cells, email)
        if found is None and not cells.problems:
            cells.problem("email", "no person is registered with this email; import them first")
        return found


class _People(_Rows):
    """name, email, organisation, region, country, and optionally the programme to enrol in."""

    def __init__(self, batch: Batch[LedgerService], resolve: Resolver, actor: Actor) -> None:
        super().__init__(batch, resolve, actor)
        self.registered: dict[str, int] = {}  # person id -> the row that registers them

    def check(self, cells: Cells) -> Outcome:
        row = person_row(cells)
        programme = self.resolve.programme(cells)
        if row is None or cells.problems:
            return None
        if not self.first(cells, (fold_email(row.email),), "email", "the same email"):
            return None
        known = self.resolve.with_email(row.email)
        same = [p for p in known if _same_person(p, row)]
        appended = False
        if same:
            person_id = kept(same[0])
        elif known:
            ids = ", ".join(sorted(str(p.id) for p in known))
            cells.problem(
                "email",
                f"duplicate person: this email is registered for person {ids} with another name"
                " or organisation; correct the row, or the person's record",
            )
            return None
        else:
            registered = self._register(cells, row)
            if registered is None:
                return None
            person_id, appended = registered, True
        if programme is not None and person_id in self.registered:
            # A person this file registers has no enrolment yet: no need to ask the store.
            self.batch.not_stored(enrolment_id(UUID(programme), UUID(person_id)))
        if programme is not None and not self.enrolled(programme, person_id):
            if not self.attempt(
                cells,
                "programme",
                lambda: self.service.enrol(self.actor, programme, person_id, row.consortium),
            ):
                return None
            appended = True
        return appended

    def _register(self, cells: Cells, row: PersonRow) -> str | None:
        try:
            person_id = self.service.register_person(
                self.actor, row.name, row.email, row.organisation, row.region, row.country
            ).id
        except PossibleDuplicate as exc:
            cells.problem("name", self._duplicate(exc.matches))
            return None
        except DomainError as exc:
            refused(cells, "name", exc)
            return None
        self.registered[person_id] = cells.row
        return person_id

    def _duplicate(self, matches: Iterable[str]) -> str:
        rows = sorted(self.registered[m] for m in matches if m in self.registered)
        people = sorted(m for m in matches if m not in self.registered)
        found = [f"row {r}" for r in rows] + [f"person {p}" for p in people]
        return (
            f"duplicate person: the same name and organisation as {', '.join(found)}, with"
            " another email; one person is registered once"
        )


def _same_person(person: Person, row: PersonRow) -> bool:
    """The same email (already matched), name and organisation: the same person."""
    return (fold(person.name), fold(person.organisation)) == (
        fold(row.name),
        fold(row.organisation),
    )


class _Enrolments(_Rows):
    """email (a registered person), programme, and optionally the consortium."""

    def check(self, cells: Cells) -> Outcome:
        row = enrolment_row(cells)
        programme = self.resolve.programme(cells)
        if row is None or programme is None or cells.problems:
            return None
        key = (fold_email(row.email), programme)
        if not self.first(cells, key, "email", "the same person and programme"):
            return None
        person_id = self.person(cells, row.email)
        if person_id is None:
            return None
        if self.enrolled(programme, person_id):
            return False
        if not self.attempt(
            cells,
            "programme",
            lambda: self.service.enrol(self.actor, programme, person_id, row.consortium),
        ):
            return None
        return True


class _Attendance(_Rows):
    """email (an enrolled person), programme, week and attended (yes or no)."""

    def check(self, cells: Cells) -> Outcome:
        row = attendance_row(cells)
        programme = self.resolve.programme(cells)
        if row is None or programme is None or cells.problems:
            return None
        key = (fold_email(row.email), programme, row.week)
        if not self.first(cells, key, "week", "the same person, programme and week"):
            return None
        person_id = self.person(cells, row.email)
        if person_id is None:
            return None
        try:
            enrolment = self.service.enrolment(programme, person_id)
        except NotFound:
            cells.problem("programme", "the person is not enrolled in this programme")
            return None
        previous = enrolment.attendance.get(row.week)
        if previous is not None and previous.attended == row.attended:
            return False
        if not self.attempt(
            cells,
            "attended",
            lambda: self.service.record_attendance(
                self.actor, programme, person_id, row.week, row.attended
            ),
        ):
            return None
        return True


_ROWS: dict[ImportKind, type[_Rows]] = {
    ImportKind.PEOPLE: _People,
    ImportKind.ENROLMENTS: _Enrolments,
    ImportKind.ATTENDANCE: _Attendance,
}
