"""The certificate register: every certificate, its facts, and the evidence chain behind it,
each piece named by its position in the log.

Corrections are part of the evidence: an attendance correction on the enrolment behind an
issued Associate Trainer certificate is listed in the certificate's `evidence.corrections`, so
the verification page shows what changed after the decision. A retracted course leaves the
courses that can count; a withdrawn sign-off is no longer a sign-off."""

from __future__ import annotations

from typing import Any

from projections import courses
from projections.base import Event, Projection, Row, View
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


def _courses(view: View, person: str) -> Row:
    """The person's courses row: their newest deliveries as [on, position, full programme,
    delivery id] and the number of full blocks of earlier ones (projections.courses), and,
    once people are merged, `duplicate_of` and `merged` (the people merged in)."""
    return view.get("courses", person) or {"deliveries": [], "blocks": 0}


def _deliveries(view: View, person: str) -> list[list[Any]]:
    """Every delivery of the person, in log order."""
    return courses.every(view, person, _courses(view, person))


def _course(view: View, event: Event) -> None:
    p = event.payload
    row = view.get("courses", event.stream) or {"deliveries": [], "blocks": 0}
    courses.append(
        view,
        event.stream,
        row,
        [event.effective_on, event.position, p["full_programme"], p["delivery_id"]],
    )
    view.put("courses", event.stream, row)


def _course_retracted(view: View, event: Event) -> None:
    # A course is retracted on the stream it was recorded on (the person's own deliveries).
    row = view.get("courses", event.stream)
    if row is None:
        return
    delivery_id = event.payload["delivery_id"]

    def drop(found: list[list[Any]]) -> bool:
        kept = [d for d in found if d[3] != delivery_id]
        dropped = len(kept) != len(found)
        found[:] = kept
        return dropped

    courses.change(view, event.stream, row, drop)
    view.put("courses", event.stream, row)


def _marked_duplicate(view: View, event: Event) -> None:
    kept = str(event.payload["duplicate_of"])
    duplicate = _courses(view, event.stream)
    duplicate["duplicate_of"] = kept
    view.put("courses", event.stream, duplicate)
    row = _courses(view, kept)
    row["merged"] = [*row.get("merged", []), event.stream]
    view.put("courses", kept, row)


def _counted(view: View, holder: str, delivery_ids: list[str]) -> list[int]:
    """Log positions of the courses a decision counted, in log order. They are the courses of
    the holder read as one person (the person kept, and everyone merged into them), as the
    decision saw them; retracted ones are gone (a decision cannot count a course retracted
    before it)."""
    wanted = set(delivery_ids)
    kept, seen = holder, {holder}
    while (up := _courses(view, kept).get("duplicate_of")) is not None and up not in seen:
        kept = str(up)
        seen.add(kept)
    positions: list[int] = []
    queue, read = [kept], set()
    while queue:
        person = queue.pop(0)
        if person in read:
            continue
        read.add(person)
        row = _courses(view, person)
        positions += [d[1] for d in courses.every(view, person, row) if d[3] in wanted]
        queue += row.get("merged", [])
    return sorted(positions)


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
        counted = _counted(view, p["holder_id"], p["courses"])
    else:
        delivered = _deliveries(view, p["holder_id"])
        counted = [d[1] for d in delivered if d[0] <= event.effective_on]
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
        counted = _counted(view, p["holder_id"], p["programmes"])
    else:
        delivered = _deliveries(view, p["holder_id"])
        counted = [d[1] for d in delivered if d[2] and d[0] <= event.effective_on]
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
    version=5,
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
        "person.marked_duplicate": _marked_duplicate,
        "certificate.associate_trainer_issued": _qualification,
        "certificate.licence_granted": _licence,
        "certificate.instructor_certified": _instructor,
        **dict.fromkeys(DECISION_TYPES, decision_handler(lambda facts: facts["holder"])),
    },
)
