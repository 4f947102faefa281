"""Reading the projections, for the present or the past.

`as_of` (valid time) asks what held on a date; `known_at` (transaction time, a log tree size)
asks what the ledger knew when its log had that many records. Past answers are computed from the
certificate's own signed records, folded by the same code as the live projection, so the present
answer of a time-travel query equals the live projection's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from ledger.db import Database
from ledger.domain.person import ERASED
from ledger.store.application import Store
from ledger.store.mapper import SigningMapper
from ledger.views.sql import SqlView, trackings
from projections.base import Event, Row
from projections.facts import fold, issue, status_on
from projections.programme_roster import eligibility

SUSPENDED = "certificate.licence_suspended"
REVOKED = ("certificate.licence_revoked", "certificate.instructor_revoked")


class QueryError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


@dataclass
class Queries:
    db: Database
    store: Store

    def _row(self, projection: str, table: str, key: str) -> Row | None:
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, projection) if t.active), None)
            if active is None:
                return None
            return SqlView(tx, self.db.table(active.table)).get(table, key)

    def _rows(self, projection: str, table: str, index: str | None) -> list[tuple[str, Row]]:
        with self.db.read() as tx:
            active = next((t for t in trackings(tx, self.db, projection) if t.active), None)
            if active is None:
                return []
            return list(SqlView(tx, self.db.table(active.table)).rows(table, index))

    def position(self) -> int:
        """How many records every projection has applied (the smallest)."""
        with self.db.read() as tx:
            reached = [t.position for t in trackings(tx, self.db) if t.active]
        return min(reached, default=0)

    # -- certificates -------------------------------------------------------------------------

    def certificate_facts(self, certificate_id: str, known_at: int | None = None) -> Row | None:
        facts = self._row("certificate_register", "certificates", certificate_id)
        if facts is None or known_at is None:
            return facts
        return self._facts_known_at(facts, known_at)

    def _facts_known_at(self, facts: Row, known_at: int) -> Row | None:
        """The certificate as the ledger knew it at log size `known_at`, from its records."""
        if known_at < 0:
            raise QueryError("known_at", "must be a log size (0 or more)")
        known = {
            version: position for version, position, *_ in facts["events"] if position < known_at
        }
        if not known:
            return None
        rows = self.store.app.recorder.select_events(UUID(facts["stream"]), lte=max(known))
        past: Row | None = None
        for row in rows:
            event = Event.from_record(known[row.originator_version], bytes(row.state))
            past = issue(event) if past is None else fold(past, event)
        if past is not None:
            past["evidence"] = facts.get("evidence")
            past["programme"] = facts.get("programme")
        return past

    def certificate_status(
        self, certificate_id: str, as_of: date, known_at: int | None = None
    ) -> dict[str, Any] | None:
        """The facts and the status on `as_of`, as known at `known_at` (None: now)."""
        facts = self.certificate_facts(certificate_id, known_at)
        if facts is None:
            if self._row("certificate_register", "certificates", certificate_id) is None:
                return None
            return {
                "certificate_id": certificate_id,
                "status": "unknown",
                "since": None,
                "reason": "not yet recorded at that log size",
                "until": None,
                "facts": None,
            }
        facts = self.reveal(facts)
        return {"certificate_id": certificate_id, **status_on(facts, as_of), "facts": facts}

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
        for certificate_id, facts in self._rows("certificate_register", "certificates", None):
            grouped.setdefault(status_on(facts, on)["status"], []).append(certificate_id)
        return grouped

    # -- trainers ----------------------------------------------------------------------------

    def trainer_status(
        self, person_id: str, as_of: date, known_at: int | None = None
    ) -> dict[str, Any] | None:
        trainer = self._row("trainer_status", "trainers", person_id)
        if trainer is None or (known_at is not None and trainer["registered"] >= known_at):
            return None
        certificates = []
        for certificate_id in trainer["certificates"]:
            status = self.certificate_status(certificate_id, as_of, known_at)
            if status is not None and status["facts"] is not None:
                certificates.append(status)
        deliveries = [
            d
            for d in trainer["deliveries"]
            if d[0] <= as_of.isoformat() and (known_at is None or d[1] < known_at)
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
            "full_programmes_delivered": sum(1 for d in deliveries if d[2]),
            "last_course_on": max((d[0] for d in deliveries), default=None),
        }

    # -- roster and public register -------------------------------------------------------------

    def roster(self, programme_id: str) -> dict[str, Any] | None:
        programme = self._row("programme_roster", "programmes", programme_id)
        if programme is None:
            return None
        projects = dict(self._rows("programme_roster", "projects", programme_id))
        enrolments = []
        for enrolment_id, row in self._rows("programme_roster", "enrolments", programme_id):
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

    def public_register(
        self, on: date, region: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        listed = []
        for certificate_id, facts in self._rows("public_register", "certificates", region):
            if kind is not None and facts["kind"] != kind:
                continue
            holder = self._row("public_register", "holders", facts["holder"]) or {}
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
