"""The certificate register: every certificate, its facts, and the evidence chain behind it,
each piece named by its position in the log.

Corrections are part of the evidence: an attendance correction on the enrolment behind an
issued Associate Trainer certificate is listed in the certificate's `evidence.corrections`, so
the verification page shows what changed after the decision. A retracted course leaves the
courses that can count; a withdrawn sign-off is no longer a sign-off.

Each course is a row of its own in `courses`, under its person and log position and indexed by
the person, so recording a course costs the same however many the trainer has; who was merged
into whom is kept in `people`."""

from __future__ import annotations

from projections.base import Event, Projection, Row, View
from projections.facts import DECISION_TYPES, decision_handler, issue, store
from projections.trainer_status import delivery_key

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


def _deliveries(view: View, person: str) -> list[Row]:
    """The person's courses, in log order: each `{"on", "position", "full_programme",
    "delivery_id"}`."""
    return [row for _, row in view.rows("courses", person)]


def _course(view: View, event: Event) -> None:
    p = event.payload
    view.put(
        "courses",
        delivery_key(event.stream, event.position),
        {
            "on": event.effective_on,
            "position": event.position,
            "full_programme": p["full_programme"],
            "delivery_id": p["delivery_id"],
        },
        index=event.stream,
    )


def _course_retracted(view: View, event: Event) -> None:
    # A course is retracted on the stream it was recorded on (the person's own courses).
    delivery_id = event.payload["delivery_id"]
    for key, row in view.rows("courses", event.stream):
        if row["delivery_id"] == delivery_id:
            view.delete("courses", key)


def _marked_duplicate(view: View, event: Event) -> None:
    kept = str(event.payload["duplicate_of"])
    duplicate = view.get("people", event.stream) or {}
    duplicate["duplicate_of"] = kept
    view.put("people", event.stream, duplicate)
    row = view.get("people", kept) or {}
    row["merged"] = [*row.get("merged", []), event.stream]
    view.put("people", kept, row)


def _counted(view: View, holder: str, delivery_ids: list[str]) -> list[int]:
    """Log positions of the courses a decision counted, in log order. They are the courses of
    the holder read as one person (the person kept, and everyone merged into them), as the
    decision saw them; retracted ones are gone (a decision cannot count a course retracted
    before it)."""
    wanted = set(delivery_ids)
    kept, seen = holder, {holder}
    while (up := (view.get("people", kept) or {}).get("duplicate_of")) is not None and (
        up not in seen
    ):
        kept = str(up)
        seen.add(kept)
    positions: list[int] = []
    queue, read = [kept], set()
    while queue:
        person = queue.pop(0)
        if person in read:
            continue
        read.add(person)
        mine = _deliveries(view, person)
        positions += [d["position"] for d in mine if d["delivery_id"] in wanted]
        queue += (view.get("people", person) or {}).get("merged", [])
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
        courses = _deliveries(view, p["holder_id"])
        counted = [d["position"] for d in courses if d["on"] <= event.effective_on]
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
        courses = _deliveries(view, p["holder_id"])
        counted = [
            d["position"] for d in courses if d["full_programme"] and d["on"] <= event.effective_on
        ]
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
    version=4,
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
