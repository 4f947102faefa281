"""Reading the projections, for the present or the past.

`as_of` (valid time) asks what held on a date; `known_at` (transaction time, a log tree size)
asks what the ledger knew when its log had that many records. Past answers are computed from the
certificate's own signed records, folded by the same code as the live projection, so the present
answer of a time-travel query equals the live projection's.

A person marked as the duplicate of another reads as the kept person: their certificates and
courses count for the kept person. `Queries` also answers the service layer's `Lookups`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from ledger.db import Database
from ledger.domain.person import ERASED
from ledger.store.application import Store
from ledger.store.mapper import SigningMapper
from ledger.store.recorders import PostgresLedgerRecorder, SQLiteLedgerRecorder
from ledger.views.sql import SqlView, trackings
from projections import courses
from projections.base import Event, MemoryView, Row
from projections.facts import fold, issue, status_on
from projections.programme_roster import PROJECTION as ROSTER
from projections.programme_roster import eligibility

SUSPENDED = "certificate.licence_suspended"
REVOKED = ("certificate.licence_revoked", "certificate.instructor_revoked")
DATED_ROSTER_FACTS = frozenset(
    {
        "enrolment.attendance_recorded",
        "enrolment.attendance_corrected",
        "enrolment.withdrawn",
        "enrolment.qualification_awarded",
        "project.signed_off",
        "project.returned_for_rework",
        "project.sign_off_withdrawn",
    }
)
"""Roster facts that hold from their effective date (a week's start, a sign-off's date), left
out of a roster asked for an earlier date; enrolments, teams and tutors always show."""


class QueryError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


@dataclass
class Queries:
    db: Database
    store: Store

    def row(self, projection: str, table: str, key: str) -> Row | None:
        """One row of a projection's active generation (None: no such row)."""
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, projection) if t.active), None)
            if active is None:
                return None
            return SqlView(tx, self.db.table(active.table)).get(table, key)

    def rows(self, projection: str, table: str, index: str | None = None) -> list[tuple[str, Row]]:
        """(key, row) of a projection's table, ordered by key (with `index`: those only)."""
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, projection) if t.active), None)
            if active is None:
                return []
            return list(SqlView(tx, self.db.table(active.table)).rows(table, index))

    def rows_for(
        self, projection: str, table: str, keys: Collection[str], containing: str | None = None
    ) -> dict[str, Row]:
        """The rows of `keys` in a projection's table (missing keys are left out): one query
        per 500 keys, for a page of search hits among many rows. With `containing`, only the
        rows whose canonical JSON holds that text (e.g. a member set: `"duplicate_of":"`)."""
        wanted = sorted(set(keys))
        found: dict[str, Row] = {}
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, projection) if t.active), None)
            if active is None:
                return found
            name = self.db.table(active.table)
            like = "" if containing is None else " AND data LIKE ?"
            pattern = () if containing is None else (f"%{containing}%",)
            for keys_sql, chunk in _key_chunks(wanted, postgres=self.db.postgres):
                for key, data in tx.execute(
                    f"SELECT key, data FROM {name} WHERE tbl = ? AND {keys_sql}{like}",
                    (table, *chunk, *pattern),
                ).fetchall():
                    found[str(key)] = dict(json.loads(data))
        return found

    def position(self) -> int:
        """How many records every projection has applied (the smallest)."""
        with self.db.read() as tx:
            reached = [t.position for t in trackings(tx, self.db) if t.active]
        return min(reached, default=0)

    # -- certificates -------------------------------------------------------------------------

    def certificate_facts(self, certificate_id: str, known_at: int | None = None) -> Row | None:
        facts = self.row("certificate_register", "certificates", certificate_id)
        if facts is None or known_at is None:
            return facts
        return self._facts_known_at(facts, known_at)

    def _facts_known_at(self, facts: Row, known_at: int) -> Row | None:
        """The certificate as the ledger knew it at log size `known_at`, from its records."""
        return self._many_known_at({"one": facts}, known_at).get("one")

    def _many_known_at(self, facts: Mapping[str, Row], known_at: int) -> dict[str, Row]:
        """Each certificate as the ledger knew it at log size `known_at`, from its records, read
        for all of them in one query (those not yet recorded then are left out)."""
        if known_at < 0:
            raise QueryError("known_at", "must be a log size (0 or more)")
        known: dict[str, dict[int, int]] = {}
        for key, row in facts.items():
            versions = {v: position for v, position, *_ in row["events"] if position < known_at}
            if versions:
                known[key] = versions
        if not known:
            return {}
        keys = {UUID(facts[key]["stream"]): key for key in known}
        upto = max(max(versions) for versions in known.values())
        folded: dict[str, Row] = {}
        recorder = self.store.app.recorder
        assert isinstance(recorder, SQLiteLedgerRecorder | PostgresLedgerRecorder)
        for record in recorder.select_streams(list(keys), lte=upto):
            key = keys[UUID(str(record.originator_id))]
            position = known[key].get(record.originator_version)
            if position is None:  # a later record of a stream that has an earlier one known
                continue
            event = Event.from_record(position, bytes(record.state))
            folded[key] = issue(event) if key not in folded else fold(folded[key], event)
        for key, past in folded.items():
            past["evidence"] = facts[key].get("evidence")
            past["programme"] = facts[key].get("programme")
        return folded

    def certificate_status(
        self, certificate_id: str, as_of: date, known_at: int | None = None
    ) -> dict[str, Any] | None:
        """The facts and the status on `as_of`, as known at `known_at` (None: now)."""
        return self.certificate_statuses([certificate_id], as_of, known_at)[certificate_id]

    def certificate_statuses(
        self, certificate_ids: Sequence[str], as_of: date, known_at: int | None = None
    ) -> dict[str, dict[str, Any] | None]:
        """`certificate_status` of each certificate, their register rows read in one query and,
        for a past log size, their records in one more (None: no such certificate)."""
        current = self.rows_for("certificate_register", "certificates", certificate_ids)
        facts = current if known_at is None else self._many_known_at(current, known_at)
        found: dict[str, dict[str, Any] | None] = {}
        for certificate_id in certificate_ids:
            then = facts.get(certificate_id)
            if then is not None:
                then = self.reveal(then)
                found[certificate_id] = {
                    "certificate_id": certificate_id,
                    **status_on(then, as_of),
                    "facts": then,
                }
            elif certificate_id in current:
                found[certificate_id] = {
                    "certificate_id": certificate_id,
                    "status": "unknown",
                    "since": None,
                    "reason": "not yet recorded at that log size",
                    "until": None,
                    "facts": None,
                }
            else:
                found[certificate_id] = None
        return found

    def reveal(self, facts: Row) -> Row:
        """The facts with their reasons in plain text. Projections copy a reason from its record
        as it stands, encrypted under the holder's data key; it is decrypted here, reads as
        `[erased]` once the holder is erased, and so does a legacy plain-text reason."""
        if not facts["suspensions"] and facts["revocation_reason"] is None:
            return facts
        mapper = self.store.app.mapper
        assert isinstance(mapper, SigningMapper)
        erased = self.store.person_keys.is_erased(facts["holder"])
        stream = facts["stream"]

        def plain(version: int, type_name: str, value: Any) -> str:
            if isinstance(value, str):
                return ERASED if erased else value
            return mapper.reveal(stream, version, type_name, "reason", value)

        shown = dict(facts)
        suspended = [e for e in facts["events"] if e[2] == SUSPENDED]
        shown["suspensions"] = [
            {**s, "reason": plain(event[0], event[2], s["reason"])}
            for s, event in zip(facts["suspensions"], suspended, strict=False)
        ]
        if facts["revocation_reason"] is not None:
            version, _, type_name, _ = next(e for e in facts["events"] if e[2] in REVOKED)
            shown["revocation_reason"] = plain(version, type_name, facts["revocation_reason"])
        return shown

    def certificates_by_status(self, on: date) -> dict[str, list[str]]:
        """Every certificate id, grouped by its status on `on`."""
        grouped: dict[str, list[str]] = {}
        for certificate_id, facts in self.rows("certificate_register", "certificates", None):
            grouped.setdefault(status_on(facts, on)["status"], []).append(certificate_id)
        return grouped

    # -- people and merged duplicates ----------------------------------------------------------

    def trainer(self, person_id: str) -> Row | None:
        return self.row("trainer_status", "trainers", person_id)

    def kept_person(self, person_id: str) -> str:
        """The person `person_id` reads as: the kept person when marked a duplicate."""
        return kept_in(self.trainer, person_id)

    def merged_into(self, person_id: str) -> list[str]:
        """The people marked as duplicates of `person_id` (and of those, in turn)."""
        found: list[str] = []
        pending = [person_id]
        while pending:
            row = self.trainer(pending.pop())
            for merged in _ids((row or {}).get("merged")):
                if merged not in found and merged != person_id:
                    found.append(merged)
                    pending.append(merged)
        return found

    # -- lookups for the service layer (`ledger.service.Lookups`) -------------------------------

    def tutors_of(self, programme_id: str) -> Collection[str]:
        """The people tutoring a field project of the programme."""
        projects = self.rows("programme_roster", "projects", programme_id)
        return {str(row["tutor"]) for _, row in projects if row.get("tutor")}

    def certificates_of(self, person_id: str) -> Collection[str]:
        """The certificates the person holds, with those of people merged into them."""
        held: list[str] = []
        for person in (person_id, *self.merged_into(person_id)):
            for certificate_id in (self.trainer(person) or {}).get("certificates", []):
                if certificate_id not in held:
                    held.append(certificate_id)
        return held

    def programmes_of(self, person_id: str) -> Collection[str]:
        """The programmes the person (or anyone merged into them) is enrolled in, withdrawn
        enrolments included."""
        people = {person_id, *self.merged_into(person_id)}
        return sorted(
            {
                str(row["programme"])
                for _, row in self.rows("programme_roster", "enrolments")
                if row["person"] in people
            }
        )

    # -- trainers ----------------------------------------------------------------------------

    def trainer_status(
        self, person_id: str, as_of: date, known_at: int | None = None
    ) -> dict[str, Any] | None:
        """The trainer's certificates and courses on `as_of`, those of people merged into them
        included (they read as one person)."""
        trainer = self.trainer(person_id)
        if trainer is None or (known_at is not None and trainer["registered"] >= known_at):
            return None
        late, late_positions = self._merged_later(person_id, as_of, known_at)
        certificates = []
        held = list(self.certificates_of(person_id))
        for status in self.certificate_statuses(held, as_of, known_at).values():
            if (
                status is not None
                and status["facts"] is not None
                and status["facts"]["holder"] not in late
            ):
                certificates.append(status)
        deliveries = [
            d
            for d in self.deliveries_of(person_id)
            if d.on <= as_of.isoformat()
            and (known_at is None or d.position < known_at)
            and d.position not in late_positions
            and d.counts(as_of, known_at)
        ]
        return {
            "person_id": person_id,
            "region": trainer["region"],
            "country": trainer["country"],
            "erased": trainer["erased"],
            "as_of": as_of.isoformat(),
            "known_at": known_at,
            "certificates": certificates,
            "courses_delivered": len(deliveries),
            "full_programmes_delivered": sum(1 for d in deliveries if d.full_programme),
            "last_course_on": max((d.on for d in deliveries), default=None),
        }

    def _merged_later(
        self, person_id: str, as_of: date, known_at: int | None
    ) -> tuple[set[str], set[int]]:
        """The people merged into `person_id` whose merge had not happened on `as_of` (its
        recording date is later) or was not yet known at log size `known_at`, and the log
        positions of their records: until then they read as a person of their own."""
        merged = self.merged_into(person_id)
        if not merged:
            return set(), set()
        events = self.stream_events(merged)
        marks = {
            e.stream: (e.position, e.effective_on, str(e.payload["duplicate_of"]))
            for e in events
            if e.type == "person.marked_duplicate"
        }

        def merged_by_then(person: str) -> bool:
            seen = set()
            while person != person_id and person not in seen:
                seen.add(person)
                mark = marks.get(person)
                if mark is None:
                    return False
                position, on, kept = mark
                if on > as_of.isoformat() or (known_at is not None and position >= known_at):
                    return False
                person = kept
            return person == person_id

        late = {person for person in merged if not merged_by_then(person)}
        return late, {e.position for e in events if e.stream in late}

    def deliveries_of(self, person_id: str) -> list[Delivery]:
        """Courses recorded for the person and for people merged into them (retracted ones
        included, marked), in date order."""
        found: dict[int, Delivery] = {}
        for person in (person_id, *self.merged_into(person_id)):
            for item in self._courses_of(person):
                delivery = Delivery.from_row(item)
                found[delivery.position] = delivery
        return sorted(found.values(), key=lambda d: (d.on, d.position))

    def _courses_of(self, person: str) -> list[list[Any]]:
        """Every course in the person's trainer status row and its blocks, read together."""
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, "trainer_status") if t.active), None)
            if active is None:
                return []
            view = SqlView(tx, self.db.table(active.table))
            row = view.get("trainers", person)
            return [] if row is None else courses.every(view, person, row)

    # -- roster and public register -------------------------------------------------------------

    def roster(self, programme_id: str, as_of: date | None = None) -> dict[str, Any] | None:
        """The programme, its field projects and enrolments; with `as_of`, attendance,
        sign-offs, returns, withdrawals and awards only as they stood on that date."""
        programme = self.row("programme_roster", "programmes", programme_id)
        if programme is None:
            return None
        projects = dict(self.rows("programme_roster", "projects", programme_id))
        enrolment_rows = self.rows("programme_roster", "enrolments", programme_id)
        if as_of is not None:
            projects, enrolment_rows = self._roster_on(
                as_of, [*projects, *(key for key, _ in enrolment_rows)]
            )
        enrolments = []
        for enrolment_id, row in enrolment_rows:
            project = projects.get(row["project"]) if row["project"] else None
            enrolments.append(
                {
                    "enrolment_id": enrolment_id,
                    **row,
                    "eligibility": eligibility(programme, row, project),
                }
            )
        return {
            "programme_id": programme_id,
            **programme,
            "projects": [{"project_id": k, **v} for k, v in sorted(projects.items())],
            "enrolments": enrolments,
        }

    def _roster_on(
        self, as_of: date, streams: Sequence[str]
    ) -> tuple[dict[str, Row], list[tuple[str, Row]]]:
        """The roster's project and enrolment rows on `as_of`: their streams replayed through
        the roster projection's own handlers, leaving out dated facts effective later."""
        view = MemoryView()
        day = as_of.isoformat()
        for event in self.stream_events(streams):
            if event.type in DATED_ROSTER_FACTS and event.effective_on > day:
                continue
            ROSTER.apply(view, event)
        return dict(view.rows("projects")), list(view.rows("enrolments"))

    def stream_events(self, streams: Sequence[str]) -> list[Event]:
        """The records of `streams` as projections see them, in log order (a record not yet
        sequenced into the log reads with position -1)."""
        db = self.db
        events: list[tuple[int, Event]] = []
        ids = [UUID(s) if db.postgres else UUID(s).hex for s in streams]
        with db.read() as tx:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                found = tx.execute(
                    f"SELECT e.{db.nid}, l.leaf_index, e.state FROM {db.events_table} e"
                    f" LEFT JOIN {db.table('ledger_log_leaves')} l"
                    f" ON l.notification_id = e.{db.nid} WHERE e.originator_id IN ({marks})",
                    chunk,
                ).fetchall()
                for nid, leaf, state in found:
                    position = -1 if leaf is None else int(leaf)
                    events.append((int(nid), Event.from_record(position, bytes(state))))
        return [event for _, event in sorted(events, key=lambda pair: pair[0])]

    def public_register(
        self, on: date, region: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        listed = []
        for certificate_id, facts in self.rows("public_register", "certificates", region):
            if kind is not None and facts["kind"] != kind:
                continue
            holder = self.row("public_register", "holders", facts["holder"]) or {}
            if not holder.get("listed"):
                continue
            status = status_on(facts, on)
            if status["status"] == "valid":
                listed.append(
                    {
                        "certificate_id": certificate_id,
                        "kind": facts["kind"],
                        "holder": facts["holder"],
                        "region": facts["region"],
                        "country": facts["country"],
                        "valid_from": facts["valid_from"],
                        "valid_until": facts["valid_until"],
                        "name_hidden": holder.get("name_hidden"),
                    }
                )
        return listed


@dataclass(frozen=True)
class Delivery:
    """A course delivered, as the trainer status projection keeps it: `[on, position,
    full_programme, delivery_id, retracted at position, retracted on]` (older rows: the first
    three)."""

    on: str
    position: int
    full_programme: bool
    retracted_at: int | None
    retracted_on: str | None = None

    @classmethod
    def from_row(cls, item: Sequence[Any]) -> Delivery:
        retracted_at = item[4] if len(item) > 4 else None
        retracted_on = item[5] if len(item) > 5 else None
        return cls(str(item[0]), int(item[1]), bool(item[2]), retracted_at, retracted_on)

    def counts(self, as_of: date, known_at: int | None) -> bool:
        """Whether the course counts on `as_of`, as the ledger knew it at log size `known_at`
        (None: now). A retraction takes effect on the day it is recorded: asked for an
        earlier date, or at a log size before it, the course still reads as it was recorded."""
        if self.retracted_at is None:
            return True
        if known_at is not None and self.retracted_at >= known_at:
            return True
        return self.retracted_on is not None and self.retracted_on > as_of.isoformat()


def kept_in(trainer: Callable[[str], Row | None], person_id: str) -> str:
    """The person `person_id` reads as, following `duplicate_of` through the trainer rows
    `trainer` gives (each row once, should the records loop)."""
    seen = {person_id}
    current = person_id
    while (row := trainer(current)) is not None and row.get("duplicate_of"):
        following = str(row["duplicate_of"])
        if following in seen:
            break
        seen.add(following)
        current = following
    return current


def _ids(value: Any) -> list[str]:
    """A row's list of person ids (absent in rows written before merges existed)."""
    return [str(item) for item in value] if isinstance(value, list) else []


def _key_chunks(keys: list[str], *, postgres: bool) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(condition on `key`, its parameters) covering `keys`: on PostgreSQL one array parameter
    (one statement text, prepared once, however many keys); on SQLite `IN` lists of at most
    500, under its limit on parameters."""
    if not keys:
        return
    if postgres:
        yield "key = ANY(?)", (keys,)
        return
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        yield f"key IN ({', '.join('?' * len(chunk))})", tuple(chunk)
