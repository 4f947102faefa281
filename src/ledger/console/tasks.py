"""What needs doing, per role: computed from the read models each time the dashboard is asked,
never stored, so a task disappears as soon as the act that settles it is recorded.

Each task links to the page where it is done. Names are added by the caller (`name_of`) for
staff only; everything else here is ids, dates and counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ledger.console.appeal_list import AppealEntry
from ledger.console.frame import long_date, plural
from ledger.domain.actors import Role
from ledger.domain.calendar import add_months
from ledger.domain.policy import Policy
from ledger.integrity.keyring import parse_time
from ledger.runtime import Runtime
from ledger.views.lists import CertificateFilter, Register
from ledger.views.queries import Queries
from ledger.views.roster import describe_roster
from ledger.views.sql import newest_notification
from projections.base import Row

LICENCE_ENDS_WITHIN = timedelta(days=90)
SUSPENSION_ENDS_WITHIN = timedelta(days=30)
NEW_PROGRAMME_WITHIN = timedelta(days=60)
"""A programme starting within this many days (or started that recently) and still without
participants reminds the registrar to import them."""
NAMES_SHOWN = 8

NameOf = Callable[[str], str]


@dataclass(frozen=True)
class Task:
    """One thing to do: what (`title`), why now (`detail`), and where it is done (`href`)."""

    title: str
    detail: str
    href: str


@dataclass(frozen=True)
class TaskGroup:
    """Tasks of one kind, with the sentence shown when there are none."""

    key: str
    title: str
    tasks: list[Task]
    none: str
    more: list[Task] = field(default_factory=list)
    """Standing links shown under the tasks (an import page, say): not tasks themselves."""


@dataclass(frozen=True)
class ProjectionLag:
    name: str
    position: int
    lag: int


@dataclass(frozen=True)
class LedgerHealth:
    """The log and its read models as the dashboard shows them to everyone."""

    stored: int
    log_size: int
    checkpoint_size: int | None
    checkpoint_signed_at: datetime | None
    cosignatures: int
    witnesses: dict[str, int]
    projections: list[ProjectionLag]

    @property
    def unsequenced(self) -> int:
        """Records stored but not yet in the log (sequenced within a second, normally)."""
        return max(self.stored - self.log_size, 0)

    @property
    def uncheckpointed(self) -> int:
        """Log entries not yet under a signed checkpoint."""
        return max(self.log_size - (self.checkpoint_size or 0), 0)

    @property
    def lag(self) -> int:
        """The most records any projection has still to apply."""
        return max((p.lag for p in self.projections), default=0)

    @property
    def healthy(self) -> bool:
        return self.checkpoint_size is not None and self.lag == 0 and self.unsequenced == 0


def ledger_health(runtime: Runtime) -> LedgerHealth:
    """The newest signed checkpoint, its witnesses' cosignatures and every projection's lag
    (read without the projections' digests, which would read every row)."""
    latest = runtime.public_log.latest_checkpoint()
    runner = runtime.runner
    lags = []
    for name in runner.projections:
        active = runner.active(name)
        if active is not None:
            status = runner.status_of(name, active.generation, digests=False)
            lags.append(ProjectionLag(name, status.position, status.lag))
    with runtime.db.read() as tx:
        stored = newest_notification(tx, runtime.db)[0]
    return LedgerHealth(
        stored=stored,
        log_size=runtime.public_log.size(),
        checkpoint_size=None if latest is None else latest.size,
        checkpoint_signed_at=None if latest is None else parse_time(latest.signed_at),
        cosignatures=0 if latest is None else len(latest.cosignatures),
        witnesses=runtime.log_storage.witness_sizes(),
        projections=lags,
    )


# -- registrar -----------------------------------------------------------------------------------


def attendance_to_record(queries: Queries, today: date) -> list[Task]:
    """Weeks that have started in which some active participants have no attendance entry."""
    found = []
    for programme_id, programme in queries.rows("programme_roster", "programmes"):
        active = [
            row
            for _, row in queries.rows("programme_roster", "enrolments", programme_id)
            if row["active"]
        ]
        if not active:
            continue
        for number, week in sorted(programme["weeks"].items(), key=lambda w: int(w[0])):
            if date.fromisoformat(week["starts_on"]) > today:
                continue
            missing = sum(1 for row in active if number not in row["attendance"])
            if missing:
                found.append(
                    Task(
                        f"{programme['title']}: week {number}",
                        f"began on {long_date(week['starts_on'])}; attendance not recorded for"
                        f" {missing} of {plural(len(active), 'participant')}",
                        f"/console/programmes/{programme_id}/attendance/{number}",
                    )
                )
    return found


def programmes_to_fill(queries: Queries, today: date) -> list[Task]:
    """Programmes starting soon (or just started) with nobody enrolled yet."""
    found = []
    for programme_id, programme in queries.rows("programme_roster", "programmes"):
        starts = date.fromisoformat(programme["starts_on"])
        if abs(starts - today) > NEW_PROGRAMME_WITHIN:
            continue
        if queries.rows("programme_roster", "enrolments", programme_id):
            continue
        verb = "starts" if starts >= today else "started"
        found.append(
            Task(
                programme["title"],
                f"{verb} on {long_date(starts)} and has no participants yet: import them from a"
                " spreadsheet or enrol them one by one",
                f"/console/programmes/{programme_id}/import",
            )
        )
    return found


# -- tutor -----------------------------------------------------------------------------------------


def tutored_projects(queries: Queries, tutor_id: str) -> list[tuple[str, Row]]:
    return [
        (project_id, row)
        for project_id, row in queries.rows("programme_roster", "projects")
        if row.get("tutor") == tutor_id
    ]


def projects_to_sign_off(queries: Queries, tutor_id: str) -> list[Task]:
    """The tutor's field projects not signed off (open, or returned for rework)."""
    found = []
    for project_id, row in tutored_projects(queries, tutor_id):
        if row["status"] == "signed_off":
            continue
        if row["status"] == "returned_for_rework":
            why = f"returned for rework on {long_date(row.get('returned_on'))}; sign it off once"
            why += " the team has reworked it"
        elif row.get("withdrawn_on"):
            why = (
                f"sign-off withdrawn on {long_date(row['withdrawn_on'])}; waiting for your sign-off"
            )
        else:
            why = "waiting for your sign-off"
        team = plural(len(row["members"]), "member")
        found.append(
            Task(
                f"{row['cluster_initiative']} ({row['region']}, {row['country']})",
                f"{why} (team of {team})",
                f"/console/projects/{project_id}",
            )
        )
    return found


def tutor_weeks(queries: Queries, tutor_id: str, today: date) -> list[Task]:
    """Weeks of the programmes the tutor tutors in: those not yet over, and those whose
    attendance the tutor may record (programme policy) and which miss entries."""
    programmes = sorted({str(row["programme"]) for _, row in tutored_projects(queries, tutor_id)})
    found = []
    for programme_id in programmes:
        programme = queries.row("programme_roster", "programmes", programme_id)
        if programme is None:
            continue
        records = bool(programme["policy"].get("tutors_record_attendance", 0))
        active = [
            row
            for _, row in queries.rows("programme_roster", "enrolments", programme_id)
            if row["active"]
        ]
        for number, week in sorted(programme["weeks"].items(), key=lambda w: int(w[0])):
            starts, ends = (
                date.fromisoformat(week["starts_on"]),
                date.fromisoformat(week["ends_on"]),
            )
            missing = sum(1 for row in active if number not in row["attendance"])
            if records and starts <= today and missing:
                found.append(
                    Task(
                        f"{programme['title']}: week {number}",
                        f"began on {long_date(starts)} in {week['place']}; attendance not"
                        f" recorded for {missing} of {plural(len(active), 'participant')}",
                        f"/console/programmes/{programme_id}/attendance/{number}",
                    )
                )
            elif ends >= today:
                found.append(
                    Task(
                        f"{programme['title']}: week {number}",
                        f"{long_date(starts)} to {long_date(ends)} in {week['place']}",
                        f"/console/programmes/{programme_id}/roster",
                    )
                )
    return found


# -- committee -----------------------------------------------------------------------------------


def candidates_to_award(queries: Queries, name_of: NameOf) -> list[Task]:
    """Per programme, the participants who meet R1 to R3 and are not yet awarded."""
    found = []
    for programme_id, _ in queries.rows("programme_roster", "programmes"):
        roster = describe_roster(queries, programme_id)
        if roster is None:
            continue
        eligible = [p for p in roster["participants"] if p["eligible"] and p["awarded"] is None]
        if not eligible:
            continue
        names = [name_of(p["person_id"]) for p in eligible]
        shown = ", ".join(names[:NAMES_SHOWN])
        if len(names) > NAMES_SHOWN:
            shown += f" and {len(names) - NAMES_SHOWN} more"
        found.append(
            Task(
                roster["title"],
                f"{plural(len(eligible), 'candidate')} eligible for the Associate Trainer"
                f" qualification: {shown}",
                f"/console/programmes/{programme_id}/roster",
            )
        )
    return found


def licences_to_renew(
    queries: Queries, today: date, name_of: NameOf, policy_of: Callable[[str | None], Policy]
) -> list[Task]:
    """Licences whose renewal window (R6) is open, or whose term ends within 90 days."""
    found = []
    wanted = CertificateFilter(kind="licence")
    for certificate_id, item in Register.read(queries).on(today, wanted):
        if item["status"] in ("revoked", "unknown") or not item["valid_until"]:
            continue
        until = date.fromisoformat(item["valid_until"])
        policy = policy_of(item["programme_id"])
        opens = until - timedelta(days=policy.renewal_opens_days_before)
        closes = add_months(until, policy.renewal_closes_months_after)
        ends_soon = today <= until <= today + LICENCE_ENDS_WITHIN
        if not (opens <= today <= closes or ends_soon):
            continue
        if until < today:
            when = f"ended on {long_date(until)}; renewal possible until {long_date(closes)}"
        else:
            when = f"ends on {long_date(until)}"
            if opens <= today:
                when += "; renewal window open"
            else:
                when += f"; renewal opens on {long_date(opens)}"
        found.append(
            Task(
                f"{certificate_id} ({name_of(item['holder_id'])})",
                when,
                f"/console/certificates/{certificate_id}",
            )
        )
    return found


def suspensions_ending(queries: Queries, today: date, name_of: NameOf) -> list[Task]:
    """Suspensions in force today that end within 30 days."""
    found = []
    text = today.isoformat()
    latest = (today + SUSPENSION_ENDS_WITHIN).isoformat()
    for certificate_id, facts in queries.rows("certificate_register", "certificates"):
        if facts["revoked_on"] is not None and facts["revoked_on"] <= text:
            continue
        for suspension in facts["suspensions"]:
            end = suspension["ended_on"] or suspension["until"]
            if suspension["from"] <= text < end <= latest:
                found.append(
                    Task(
                        f"{certificate_id} ({name_of(facts['holder'])})",
                        f"suspended since {long_date(suspension['from'])}, until"
                        f" {long_date(end)}: reinstate, or let it end",
                        f"/console/certificates/{certificate_id}",
                    )
                )
    return found


def appeals_to_decide(
    appeals: Iterable[AppealEntry], name_of: NameOf, member: str | None = None
) -> list[Task]:
    """Appeals lodged and not yet decided by the panel, oldest first. One against a decision
    `member` took is listed, but said to be for another member of the panel (R11)."""
    found = []
    for appeal in sorted(appeals, key=lambda a: (a.lodged_on, a.appeal_id)):
        if not appeal.open:
            continue
        detail = f"lodged on {long_date(appeal.lodged_on)}; not yet decided"
        if member is not None and appeal.decided_by == member:
            detail += " (you took the decision appealed: another member of the panel decides, R11)"
        found.append(
            Task(
                f"Appeal of {appeal.certificate_id} ({name_of(appeal.appellant_id)})",
                detail,
                f"/console/appeals/{appeal.appeal_id}",
            )
        )
    return found


# -- per role ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the tasks are computed from, so a role's tasks read only what they need."""

    queries: Queries
    today: date
    name_of: NameOf
    policy_of: Callable[[str | None], Policy]
    appeals: Callable[[], Iterable[AppealEntry]]


def for_role(role: Role, person_id: str | None, sources: Sources) -> list[TaskGroup]:
    """The groups of tasks the signed-in role sees on its dashboard, in the order shown."""
    q, today, name_of = sources.queries, sources.today, sources.name_of
    groups: list[TaskGroup] = []
    if role in (Role.ADMIN, Role.REGISTRAR):
        groups.append(
            TaskGroup(
                "attendance",
                "Attendance to record",
                attendance_to_record(q, today),
                "Attendance is recorded for every week that has begun.",
            )
        )
        groups.append(
            TaskGroup(
                "imports",
                "Programmes without participants",
                programmes_to_fill(q, today),
                "Every programme starting soon has its participants.",
                more=[
                    Task(
                        "Import from a spreadsheet",
                        "people, enrolments or attendance, checked row by row before anything"
                        " is written",
                        "/console/import",
                    )
                ],
            )
        )
    if role is Role.TUTOR and person_id is not None:
        groups.append(
            TaskGroup(
                "sign-off",
                "Field projects waiting for your sign-off",
                projects_to_sign_off(q, person_id),
                "None of your field projects waits for your sign-off.",
            )
        )
        groups.append(
            TaskGroup(
                "weeks",
                "Your programmes' weeks",
                tutor_weeks(q, person_id, today),
                "No week of your programmes is still to come.",
            )
        )
    if role is Role.COMMITTEE:
        groups.append(
            TaskGroup(
                "award",
                "Candidates eligible for award",
                candidates_to_award(q, name_of),
                "Nobody is waiting to be awarded.",
            )
        )
        groups.append(
            TaskGroup(
                "renewal",
                "Licences to renew",
                licences_to_renew(q, today, name_of, sources.policy_of),
                "No licence ends within 90 days or is in its renewal window.",
            )
        )
        groups.append(
            TaskGroup(
                "suspensions",
                "Suspensions ending within 30 days",
                suspensions_ending(q, today, name_of),
                "No suspension ends within 30 days.",
            )
        )
        groups.append(
            TaskGroup(
                "appeals",
                "Appeals to decide",
                appeals_to_decide(sources.appeals(), name_of, person_id),
                "No appeal waits for a decision.",
            )
        )
    return groups
