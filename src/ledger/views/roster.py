"""The roster that says what is missing: per participant, rules R1 to R4 each met or not, with
a sentence a registrar can act on ("attended 4 of 6 weeks, 5 required"; "project returned for
rework on 2013-05-02, not yet signed off").

R4 reads as met for a participant already awarded ("awarded AT-… on …"): the roster answers
"who is where", not "who may be awarded again". Sentences name ids, dates and counts only;
names are added by the caller for staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.views.queries import Queries
from projections.base import Row

RULES = ("R1", "R2", "R3", "R4")


@dataclass(frozen=True)
class Rule:
    met: bool
    detail: str

    def out(self) -> dict[str, Any]:
        return {"met": self.met, "detail": self.detail}


def team_rule(policy: Row, project: Row | None) -> Rule:
    """R1: a field project with its tutor and a team of the allowed size."""
    if project is None:
        return Rule(False, "in no field project")
    team = len(project["members"])
    least, most = policy.get("team_min", 1), policy.get("team_max", 3)
    if not least <= team <= most:
        return Rule(False, f"team of {team}, {least} to {most} required")
    if project.get("tutor") is None:
        return Rule(False, "field project has no tutor")
    return Rule(True, f"team of {team} with its tutor")


def attendance_rule(policy: Row, weeks_attended: int) -> Rule:
    """R2: enough in-class weeks attended."""
    total, required = policy.get("weeks_total", 6), policy.get("weeks_required", 5)
    return Rule(
        weeks_attended >= required,
        f"attended {weeks_attended} of {total} weeks, {required} required",
    )


def sign_off_rule(project: Row | None) -> Rule:
    """R3: the field project signed off by its own tutor."""
    if project is None:
        return Rule(False, "in no field project")
    status = project["status"]
    if status == "signed_off":
        if project.get("signed_off_by") != project.get("tutor"):
            return Rule(False, "project signed off by someone other than its tutor")
        return Rule(True, f"project signed off on {project['signed_off_on']}")
    if status == "returned_for_rework":
        on = project.get("returned_on")
        when = f" on {on}" if on else ""
        return Rule(False, f"project returned for rework{when}, not yet signed off")
    if project.get("withdrawn_on"):
        return Rule(
            False,
            f"project sign-off withdrawn on {project['withdrawn_on']}, not yet signed off again",
        )
    return Rule(False, "project not yet signed off")


def award_rule(active: bool, awarded: Row | None, waiting_for: list[str]) -> Rule:
    """R4: an active enrolment, once only; met when awarded or when nothing else is missing."""
    if awarded is not None:
        return Rule(True, f"awarded {awarded['certificate_id']} on {awarded['on']}")
    if not active:
        return Rule(False, "enrolment withdrawn")
    if waiting_for:
        return Rule(False, "waits for " + " and ".join(waiting_for))
    return Rule(True, "may be awarded the Associate Trainer qualification")


def weeks_attended(enrolment: Row) -> int:
    return sum(1 for attended in enrolment["attendance"].values() if attended)


def participant(
    policy: Row, enrolment: Row, project: Row | None, awarded: Row | None
) -> dict[str, Any]:
    """One participant's standing: rules, what is missing, whether eligible (or awarded)."""
    weeks = weeks_attended(enrolment)
    rules = {
        "R1": team_rule(policy, project),
        "R2": attendance_rule(policy, weeks),
        "R3": sign_off_rule(project),
    }
    unmet = [rule for rule, found in rules.items() if not found.met]
    rules["R4"] = award_rule(bool(enrolment["active"]), awarded, unmet)
    missing: list[str] = []
    for rule, found in rules.items():
        if not found.met and found.detail not in missing and not (rule == "R4" and unmet):
            missing.append(found.detail)
    return {
        "enrolment_id": enrolment["enrolment_id"],
        "person_id": enrolment["person"],
        "consortium": enrolment.get("consortium"),
        "active": bool(enrolment["active"]),
        "attendance": dict(enrolment["attendance"]),
        "weeks_attended": weeks,
        "weeks_required": policy.get("weeks_required", 5),
        "weeks_total": policy.get("weeks_total", 6),
        "corrections": len(enrolment.get("corrections") or []),
        "project": None if project is None else project_out(project),
        "awarded": awarded,
        "eligible": all(found.met for found in rules.values()),
        "missing": missing,
        "rules": {rule: found.out() for rule, found in rules.items()},
    }


def project_out(project: Row) -> dict[str, Any]:
    return {
        "project_id": project["project_id"],
        "cluster_initiative": project["cluster_initiative"],
        "status": project["status"],
        "tutor": project.get("tutor"),
        "members": list(project["members"]),
        "signed_off_on": project.get("signed_off_on"),
        "returned_on": project.get("returned_on"),
        "withdrawn_on": project.get("withdrawn_on"),
    }


def describe_roster(
    queries: Queries,
    programme_id: str,
    as_of: date | None = None,
    name_of: Callable[[str], str] | None = None,
) -> dict[str, Any] | None:
    """The programme's roster with every participant's standing (on `as_of`, when given);
    with `name_of` (staff only), each participant's name."""
    roster = queries.roster(programme_id, as_of)
    if roster is None:
        return None
    policy = roster["policy"]
    projects = {p["project_id"]: p for p in roster["projects"]}
    participants = []
    for enrolment in roster["enrolments"]:
        project = projects.get(enrolment["project"]) if enrolment["project"] else None
        entry = participant(policy, enrolment, project, _award(queries, enrolment))
        if name_of is not None:
            entry["name"] = name_of(enrolment["person"])
        participants.append(entry)
    return {
        "programme_id": programme_id,
        "title": roster["title"],
        "starts_on": roster["starts_on"],
        "ends_on": roster["ends_on"],
        "material_version": roster["material_version"],
        "policy": policy,
        "weeks": roster["weeks"],
        "as_of": None if as_of is None else as_of.isoformat(),
        "projects": [project_out(p) for p in roster["projects"]],
        "participants": participants,
    }


def _award(queries: Queries, enrolment: Row) -> Row | None:
    certificate_id = enrolment.get("certificate")
    if not certificate_id:
        return None
    facts = queries.certificate_facts(certificate_id) or {}
    return {"certificate_id": certificate_id, "on": facts.get("issued_on")}


ROSTER_CSV_HEADER = (
    "enrolment_id",
    "person_id",
    "name",
    "consortium",
    "active",
    "weeks_attended",
    "weeks_required",
    "project_id",
    "cluster_initiative",
    "project_status",
    "signed_off_on",
    "returned_on",
    "awarded_certificate",
    "awarded_on",
    "eligible",
    *RULES,
    "missing",
)


def roster_csv_rows(roster: dict[str, Any]) -> list[list[Any]]:
    """One row per participant, in the order of `ROSTER_CSV_HEADER` (rules as met or not)."""
    rows = []
    for entry in roster["participants"]:
        project = entry["project"] or {}
        awarded = entry["awarded"] or {}
        rows.append(
            [
                entry["enrolment_id"],
                entry["person_id"],
                entry.get("name"),
                entry["consortium"],
                entry["active"],
                entry["weeks_attended"],
                entry["weeks_required"],
                project.get("project_id"),
                project.get("cluster_initiative"),
                project.get("status"),
                project.get("signed_off_on"),
                project.get("returned_on"),
                awarded.get("certificate_id"),
                awarded.get("on"),
                entry["eligible"],
                *(entry["rules"][rule]["met"] for rule in RULES),
                "; ".join(entry["missing"]),
            ]
        )
    return rows
