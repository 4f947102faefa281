"""The programme roster: weeks, enrolments with attendance, teams with tutors, sign-offs.
Eligibility per rule R1 to R4 is computed from these rows when read (`eligibility`).

Corrections never edit a row's history away: an attendance correction changes the week's
attendance and is listed in the enrolment's `corrections`; a withdrawn sign-off reopens the
project and keeps the date of the withdrawal, as a return keeps the date of the return."""

from __future__ import annotations

from typing import Any

from projections.base import Event, Projection, Row, View

NAME = "programme_roster"


def _programme(view: View, event: Event) -> None:
    p = event.payload
    view.put(
        "programmes",
        event.stream,
        {
            "title": p["title"],
            "starts_on": p["starts_on"],
            "ends_on": p["ends_on"],
            "material_version": p["material_version"],
            "policy": p["policy"],
            "weeks": {},
        },
    )


def _week(view: View, event: Event) -> None:
    row = view.get("programmes", event.stream)
    if row is not None:
        p = event.payload
        row["weeks"][str(p["number"])] = {
            "starts_on": p["starts_on"],
            "ends_on": p["ends_on"],
            "place": p["place"],
            "modules": list(p["modules"]),
        }
        view.put("programmes", event.stream, row)


def _enrolled(view: View, event: Event) -> None:
    p = event.payload
    view.put(
        "enrolments",
        event.stream,
        {
            "programme": p["programme_id"],
            "person": p["person_id"],
            "consortium": p["consortium"],
            "active": True,
            "attendance": {},
            "project": None,
            "certificate": None,
            "corrections": [],
        },
        index=p["programme_id"],
    )


def _enrolment_change(view: View, event: Event) -> None:
    row = view.get("enrolments", event.stream)
    if row is None:
        return
    p = event.payload
    if event.type == "enrolment.attendance_recorded":
        row["attendance"][str(p["week"])] = p["attended"]
    elif event.type == "enrolment.attendance_corrected":
        row["attendance"][str(p["week"])] = p["attended"]
        row["corrections"].append([p["week"], p["attended"], event.position, event.effective_on])
    elif event.type == "enrolment.withdrawn":
        row["active"] = False
    elif event.type == "enrolment.joined_project":
        row["project"] = p["project_id"]
    elif event.type == "enrolment.qualification_awarded":
        row["certificate"] = p["certificate_id"]
    view.put("enrolments", event.stream, row, index=row["programme"])


def _project(view: View, event: Event) -> None:
    p = event.payload
    view.put(
        "projects",
        event.stream,
        {
            "programme": p["programme_id"],
            "cluster_initiative": p["cluster_initiative"],
            "sector": p["sector"],
            "region": p["region"],
            "country": p["country"],
            "members": [],
            "tutor": None,
            "status": "open",
            "signed_off_by": None,
            "signed_off_on": None,
            "returned_on": None,
            "withdrawn_on": None,
        },
        index=p["programme_id"],
    )


def _project_change(view: View, event: Event) -> None:
    row = view.get("projects", event.stream)
    if row is None:
        return
    p = event.payload
    if event.type == "project.team_member_assigned":
        row["members"].append(p["person_id"])
    elif event.type == "project.tutor_assigned":
        row["tutor"] = p["person_id"]
    elif event.type == "project.signed_off":
        row.update(status="signed_off", signed_off_by=p["actor"], signed_off_on=event.effective_on)
    elif event.type == "project.returned_for_rework":
        row.update(
            status="returned_for_rework",
            signed_off_by=None,
            signed_off_on=None,
            returned_on=event.effective_on,
        )
    elif event.type == "project.sign_off_withdrawn":
        row.update(
            status="open", signed_off_by=None, signed_off_on=None, withdrawn_on=event.effective_on
        )
    view.put("projects", event.stream, row, index=row["programme"])


def eligibility(programme: Row, enrolment: Row, project: Row | None) -> dict[str, Any]:
    """R1 to R4 for one enrolment, from roster rows (the rules' own defaults when unset)."""
    policy = programme["policy"]
    weeks = sum(1 for attended in enrolment["attendance"].values() if attended)
    team = 0 if project is None else len(project["members"])
    r1 = (
        project is not None
        and project["tutor"] is not None
        and (policy.get("team_min", 1) <= team <= policy.get("team_max", 3))
    )
    r2 = weeks >= policy.get("weeks_required", 5)
    r3 = (
        project is not None
        and project["status"] == "signed_off"
        and (project["signed_off_by"] == project["tutor"])
    )
    return {
        "R1": r1,
        "R2": r2,
        "R3": r3,
        "R4": bool(enrolment["active"] and r2 and r3 and enrolment["certificate"] is None),
        "weeks_attended": weeks,
        "weeks_required": policy.get("weeks_required", 5),
        "awarded": enrolment["certificate"],
    }


PROJECTION = Projection(
    name=NAME,
    version=2,
    handlers={
        "programme.opened": _programme,
        "programme.week_scheduled": _week,
        "enrolment.enrolled": _enrolled,
        "enrolment.attendance_recorded": _enrolment_change,
        "enrolment.attendance_corrected": _enrolment_change,
        "enrolment.withdrawn": _enrolment_change,
        "enrolment.joined_project": _enrolment_change,
        "enrolment.qualification_awarded": _enrolment_change,
        "project.registered": _project,
        "project.team_member_assigned": _project_change,
        "project.tutor_assigned": _project_change,
        "project.signed_off": _project_change,
        "project.returned_for_rework": _project_change,
        "project.sign_off_withdrawn": _project_change,
    },
)
