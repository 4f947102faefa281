"""The certificate register: every certificate, its facts, and the evidence chain behind it,
each piece named by its position in the log."""

from __future__ import annotations

from projections.base import Event, Projection, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store

NAME = "certificate_register"


def _enrolled(view: View, event: Event) -> None:
    view.put(
        "enrolments",
        event.stream,
        {
            "programme": event.payload["programme_id"],
            "person": event.payload["person_id"],
            "enrolled": event.position,
            "attendance": {},
            "project": None,
        },
    )


def _attendance(view: View, event: Event) -> None:
    row = view.get("enrolments", event.stream)
    if row is not None:
        row["attendance"][str(event.payload["week"])] = [event.payload["attended"], event.position]
        view.put("enrolments", event.stream, row)


def _joined(view: View, event: Event) -> None:
    row = view.get("enrolments", event.stream)
    if row is not None:
        row["project"] = event.payload["project_id"]
        view.put("enrolments", event.stream, row)


def _signed_off(view: View, event: Event) -> None:
    view.put(
        "sign_offs",
        event.stream,
        {
            "position": event.position,
            "on": event.effective_on,
            "by": event.payload["actor"],
        },
    )


def _returned(view: View, event: Event) -> None:
    view.delete("sign_offs", event.stream)


def _course(view: View, event: Event) -> None:
    row = view.get("courses", event.stream) or {"deliveries": []}
    row["deliveries"].append([event.effective_on, event.position, event.payload["full_programme"]])
    view.put("courses", event.stream, row)


def _qualification(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    enrolment = view.get("enrolments", p["enrolment_id"]) or {}
    attended = [pos for ok, pos in (enrolment.get("attendance") or {}).values() if ok]
    sign_off = view.get("sign_offs", p["project_id"])
    facts["programme"] = p["programme_id"]
    facts["evidence"] = {
        "enrolment": enrolment.get("enrolled"),
        "attendance": {"weeks": p["weeks_attended"], "positions": sorted(attended)},
        "sign_off": None if sign_off is None else sign_off["position"],
        "decision": event.position,
    }
    store(view, facts, facts["holder"])


def _licence(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    courses = (view.get("courses", p["holder_id"]) or {"deliveries": []})["deliveries"]
    facts["programme"] = p["programme_id"]
    facts["evidence"] = {
        "qualification": p["qualification_id"],
        "courses": [pos for on, pos, _ in courses if on <= event.effective_on],
        "decision": event.position,
    }
    store(view, facts, facts["holder"])


def _instructor(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    courses = (view.get("courses", p["holder_id"]) or {"deliveries": []})["deliveries"]
    facts["programme"] = None
    facts["evidence"] = {
        "licence": p["licence_id"],
        "full_programmes": [pos for on, pos, full in courses if full and on <= event.effective_on],
        "decision": event.position,
    }
    store(view, facts, facts["holder"])


PROJECTION = Projection(
    name=NAME,
    version=1,
    handlers={
        "enrolment.enrolled": _enrolled,
        "enrolment.attendance_recorded": _attendance,
        "enrolment.joined_project": _joined,
        "project.signed_off": _signed_off,
        "project.returned_for_rework": _returned,
        "person.course_delivered": _course,
        "certificate.associate_trainer_issued": _qualification,
        "certificate.licence_granted": _licence,
        "certificate.instructor_certified": _instructor,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["holder"])),
    },
)
