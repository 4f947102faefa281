"""The certificate register: every certificate, its facts, and the evidence chain behind it,
each piece named by its position in the log.

Corrections are part of the evidence: an attendance correction on the enrolment behind an
issued Associate Trainer certificate is listed in the certificate's `evidence.corrections`, so
the verification page shows what changed after the decision. A retracted course leaves the
courses that can count; a withdrawn sign-off is no longer a sign-off."""

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
            "certificate": None,
        },
    )


def _attendance(view: View, event: Event) -> None:
    row = view.get("enrolments", event.stream)
    if row is not None:
        row["attendance"][str(event.payload["week"])] = [event.payload["attended"], event.position]
        view.put("enrolments", event.stream, row)


def _attendance_corrected(view: View, event: Event) -> None:
    row = view.get("enrolments", event.stream)
    if row is None:
        return
    p = event.payload
    row["attendance"][str(p["week"])] = [p["attended"], event.position]
    view.put("enrolments", event.stream, row)
    facts = None if row["certificate"] is None else view.get("certificates", row["certificate"])
    if facts is not None:
        facts["evidence"]["corrections"].append(
            {
                "position": event.position,
                "type": event.type,
                "on": event.effective_on,
                "week": p["week"],
                "attended": p["attended"],
            }
        )
        view.put("certificates", facts["certificate_id"], facts, index=facts["holder"])


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


def _sign_off_undone(view: View, event: Event) -> None:
    view.delete("sign_offs", event.stream)


def _course(view: View, event: Event) -> None:
    p = event.payload
    on, position, full, delivery_id = (
        event.effective_on,
        event.position,
        p["full_programme"],
        p["delivery_id"],
    )
    row = view.get("courses", event.stream) or {"deliveries": []}
    row["deliveries"].append([on, position, full, delivery_id])
    view.put("courses", event.stream, row)
    view.put(
        "deliveries",
        delivery_id,
        {"person": event.stream, "position": position, "on": on, "full_programme": full},
    )


def _course_retracted(view: View, event: Event) -> None:
    delivery_id = event.payload["delivery_id"]
    delivery = view.get("deliveries", delivery_id)
    if delivery is None:
        return
    view.delete("deliveries", delivery_id)
    row = view.get("courses", delivery["person"])
    if row is not None:
        row["deliveries"] = [d for d in row["deliveries"] if d[3] != delivery_id]
        view.put("courses", delivery["person"], row)


def _counted(view: View, delivery_ids: list[str]) -> list[int]:
    """Log positions of the courses a decision counted, in log order (retracted ones are gone:
    a decision cannot count a course retracted before it)."""
    found = (view.get("deliveries", delivery_id) for delivery_id in delivery_ids)
    return sorted(delivery["position"] for delivery in found if delivery is not None)


def _qualification(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    enrolment = view.get("enrolments", p["enrolment_id"])
    attendance = {} if enrolment is None else enrolment["attendance"]
    attended = [pos for ok, pos in attendance.values() if ok]
    sign_off = view.get("sign_offs", p["project_id"])
    facts["programme"] = p["programme_id"]
    facts["evidence"] = {
        "enrolment": None if enrolment is None else enrolment["enrolled"],
        "attendance": {"weeks": p["weeks_attended"], "positions": sorted(attended)},
        "sign_off": None if sign_off is None else sign_off["position"],
        "decision": event.position,
        "corrections": [],
    }
    store(view, facts, facts["holder"])
    if enrolment is not None:
        enrolment["certificate"] = facts["certificate_id"]
        view.put("enrolments", p["enrolment_id"], enrolment)


def _licence(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    if "courses" in p:
        counted = _counted(view, p["courses"])
    else:
        courses = (view.get("courses", p["holder_id"]) or {"deliveries": []})["deliveries"]
        counted = [d[1] for d in courses if d[0] <= event.effective_on]
    facts["programme"] = p["programme_id"]
    facts["evidence"] = {
        "qualification": p["qualification_id"],
        "courses": counted,
        "decision": event.position,
        "corrections": [],
    }
    store(view, facts, facts["holder"])


def _instructor(view: View, event: Event) -> None:
    facts = issue(event)
    p = event.payload
    if "programmes" in p:
        counted = _counted(view, p["programmes"])
    else:
        courses = (view.get("courses", p["holder_id"]) or {"deliveries": []})["deliveries"]
        counted = [d[1] for d in courses if d[2] and d[0] <= event.effective_on]
    facts["programme"] = None
    facts["evidence"] = {
        "licence": p["licence_id"],
        "full_programmes": counted,
        "decision": event.position,
        "corrections": [],
    }
    store(view, facts, facts["holder"])


PROJECTION = Projection(
    name=NAME,
    version=2,
    handlers={
        "enrolment.enrolled": _enrolled,
        "enrolment.attendance_recorded": _attendance,
        "enrolment.attendance_corrected": _attendance_corrected,
        "enrolment.joined_project": _joined,
        "project.signed_off": _signed_off,
        "project.returned_for_rework": _sign_off_undone,
        "project.sign_off_withdrawn": _sign_off_undone,
        "person.course_delivered": _course,
        "person.course_retracted": _course_retracted,
        "certificate.associate_trainer_issued": _qualification,
        "certificate.licence_granted": _licence,
        "certificate.instructor_certified": _instructor,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["holder"])),
    },
)
