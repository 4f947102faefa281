"""A person's path in words: each record of their history (`ledger.views.history`) as a
sentence a member of staff reads without knowing the event types ("Attended week 3",
"Attendance of week 3 corrected to absent", "Licence LT-… granted"), with its date, who acted,
the reason of a correction, and where the record stands in the public log.

Only ids, dates, weeks, regions and codes come from the records themselves; names come from
`Names`, which decrypts them for staff (and reads `[erased]` once a person is erased).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.console.frame import Link, kind_name, long_date, long_time

Part = str | Link
"""A piece of a sentence: plain words, or a link (a person, a programme, a certificate)."""

CORRECTIONS = frozenset(
    {
        "enrolment.attendance_corrected",
        "person.course_retracted",
        "person.marked_duplicate",
        "person.duplicate_merged",
        "project.sign_off_withdrawn",
    }
)
"""Records that set an earlier record right: shown as corrections, with their reason."""

ERASURE_GROUNDS = {
    "request": "the person asked for it",
    "consent-withdrawn": "the person withdrew their consent",
    "objection": "the person objected to the processing",
    "unlawful": "the data was processed unlawfully",
    "legal-obligation": "a legal obligation requires it",
    "retention-ended": "the retention period ended",
}
"""Each erasure reason code (`ledger.domain.person.ERASURE_REASONS`) in words."""

ROLE_NAMES = {
    "admin": "Administrator",
    "registrar": "Registrar",
    "tutor": "Tutor",
    "committee": "Committee member",
    "auditor": "Auditor",
}


class Names(Protocol):
    """What the sentences need to name things (staff see names; None: not known)."""

    def person(self, person_id: str) -> str | None: ...

    def programme(self, programme_id: str) -> str | None: ...

    def project(self, project_id: str) -> str | None: ...

    def staff(self, staff_id: str) -> str | None:
        """The username behind a staff pseudonym, for those allowed to know it."""
        ...


@dataclass(frozen=True)
class Moment:
    """One record of a person's path, in words."""

    position: int | None  # its log position (None: not yet in the log)
    on: str  # the day it took effect, written out
    recorded_at: str  # when the ledger recorded it, written out (UTC)
    words: tuple[Part, ...]
    actor: tuple[Part, ...]
    reason: str | None  # a correction's or decision's reason, for staff
    correction: bool
    whose: Link | None  # a record of a person merged into this one: whose it was
    type: str

    @property
    def record(self) -> Link | None:
        """The page showing the record and its proof of inclusion in the log."""
        if self.position is None:
            return None
        return Link(f"/console/records/{self.position}", f"Log position {self.position}")


def person_link(names: Names, person_id: str) -> Link:
    return Link(f"/console/people/{person_id}", names.person(person_id) or person_id)


def certificate_link(certificate_id: str) -> Link:
    return Link(f"/verify/{certificate_id}", certificate_id)


def listed(values: Sequence[str]) -> str:
    """ "Cantabria", "Cantabria and Asturias", "Cantabria, Asturias and Galicia"."""
    items = [str(v) for v in values]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


@dataclass
class Reading:
    """What earlier records tell about later ones, gathered while reading in log order."""

    names: Names
    person_id: str
    certificates: dict[str, str]  # certificate stream -> certificate id
    courses: dict[str, tuple[str, str]]  # delivery id -> (date, region)

    def certificate(self, entry: Mapping[str, Any]) -> Link:
        found = entry["details"].get("certificate_id") or self.certificates.get(entry["stream"])
        return certificate_link(str(found)) if found else Link("#", "a certificate")

    def programme(self, programme_id: str) -> Part:
        title = self.names.programme(programme_id)
        return Link(f"/console/programmes/{programme_id}", title or programme_id)

    def project(self, project_id: str) -> str:
        return self.names.project(project_id) or "the field project"


Sentence = Callable[[Reading, Mapping[str, Any], Mapping[str, Any]], tuple[Part, ...]]


def _registered(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (f"Registered ({d.get('region')}, {d.get('country')})",)


def _course(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    people = int(d.get("participants") or 0)
    full = ", a full programme" if d.get("full_programme") else ""
    return (f"Course delivered in {d.get('region')} ({people} participants{full})",)


def _retracted(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    course = r.courses.get(str(d.get("delivery_id")))
    if course is None:
        return ("Course retracted",)
    day, region = course
    return (f"Course of {long_date(day)} in {region} retracted",)


def _marked(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Marked as a duplicate of ", person_link(r.names, str(d.get("duplicate_of"))))


def _merged(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    duplicate = str(d.get("duplicate_id"))
    return ("The records of ", person_link(r.names, duplicate), " merged into this person's")


def _name_shown(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Name hidden on public pages" if d.get("hidden") else "Name shown on public pages",)


def _listing(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    if d.get("listed"):
        return ("Listed in the public register",)
    return ("Taken off the public register",)


def _erased(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    code = str(d.get("reason") or "")
    grounds = ERASURE_GROUNDS.get(code)
    return (f"Personal data erased ({grounds})" if grounds else "Personal data erased",)


def _enrolled(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Enrolled in ", r.programme(str(d.get("programme_id"))))


def _attendance(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    week = d.get("week")
    if d.get("correction"):
        state = "attended" if d.get("attended") else "absent"
        return (f"Attendance of week {week} recorded again: {state}",)
    return (f"Attended week {week}" if d.get("attended") else f"Absent from week {week}",)


def _corrected(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    state = "attended" if d.get("attended") else "absent"
    return (f"Attendance of week {d.get('week')} corrected to {state}",)


def _joined(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (f"Joined the field project {r.project(str(d.get('project_id')))}",)


def _withdrawn(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Withdrew from the programme",)


def _awarded(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Qualification awarded: ", certificate_link(str(d.get("certificate_id"))))


def _project(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (
        f"Field project {d.get('cluster_initiative')} ({d.get('sector')}, {d.get('region')})"
        " registered",
    )


def _member(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    who = str(d.get("person_id"))
    project = r.project(str(e["stream"]))
    if who == r.person_id:
        return (f"Added to the team of {project}",)
    return (person_link(r.names, who), f" joined the team of {project}")


def _tutor(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    who = str(d.get("person_id"))
    return (person_link(r.names, who), f" assigned as the tutor of {r.project(str(e['stream']))}")


def _signed_off(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (f"Field project {r.project(str(e['stream']))} signed off",)


def _returned(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (f"Field project {r.project(str(e['stream']))} returned for rework",)


def _unsigned(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return (f"Sign-off of field project {r.project(str(e['stream']))} withdrawn",)


def _issued(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    weeks = d.get("weeks_attended")
    return (
        f"{kind_name('associate_trainer')} certificate ",
        r.certificate(e),
        f" issued ({weeks} weeks attended)",
    )


def _granted(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    scope = f" for {listed(d.get('regions') or ())} in {listed(d.get('languages') or ())}"
    return (
        "Licence ",
        r.certificate(e),
        f" granted{scope}, valid until {long_date(d.get('valid_until'))}",
    )


def _renewed(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    kind = (
        "Licence " if e["type"].startswith("certificate.licence") else "Instructor Certification "
    )
    return (kind, r.certificate(e), f" renewed until {long_date(d.get('valid_until'))}")


def _suspended(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Licence ", r.certificate(e), f" suspended until {long_date(d.get('until'))}")


def _reinstated(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    return ("Licence ", r.certificate(e), " reinstated")


def _reduced(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    scope = f"{listed(d.get('regions') or ())} in {listed(d.get('languages') or ())}"
    return ("Scope of licence ", r.certificate(e), f" reduced to {scope}")


def _revoked(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    kind = (
        "Licence " if e["type"].startswith("certificate.licence") else "Instructor Certification "
    )
    return (kind, r.certificate(e), " revoked")


def _certified(r: Reading, e: Mapping[str, Any], d: Mapping[str, Any]) -> tuple[Part, ...]:
    until = long_date(d.get("valid_until"))
    return ("Instructor Certification ", r.certificate(e), f" granted, valid until {until}")


SENTENCES: dict[str, Sentence] = {
    "person.registered": _registered,
    "person.course_delivered": _course,
    "person.course_retracted": _retracted,
    "person.marked_duplicate": _marked,
    "person.duplicate_merged": _merged,
    "person.name_publication_changed": _name_shown,
    "person.public_listing_changed": _listing,
    "person.personal_data_erased": _erased,
    "enrolment.enrolled": _enrolled,
    "enrolment.attendance_recorded": _attendance,
    "enrolment.attendance_corrected": _corrected,
    "enrolment.joined_project": _joined,
    "enrolment.withdrawn": _withdrawn,
    "enrolment.qualification_awarded": _awarded,
    "project.registered": _project,
    "project.team_member_assigned": _member,
    "project.tutor_assigned": _tutor,
    "project.signed_off": _signed_off,
    "project.returned_for_rework": _returned,
    "project.sign_off_withdrawn": _unsigned,
    "certificate.associate_trainer_issued": _issued,
    "certificate.licence_granted": _granted,
    "certificate.licence_renewed": _renewed,
    "certificate.licence_suspended": _suspended,
    "certificate.licence_reinstated": _reinstated,
    "certificate.licence_scope_reduced": _reduced,
    "certificate.licence_revoked": _revoked,
    "certificate.instructor_certified": _certified,
    "certificate.instructor_renewed": _renewed,
    "certificate.instructor_revoked": _revoked,
}


def _in_words(type_name: str) -> tuple[Part, ...]:
    """A record type no sentence is written for yet, still readable ("Appeal decided")."""
    family, _, what = type_name.partition(".")
    return (f"{family.capitalize()}: {what.replace('_', ' ')}",)


def actor_of(names: Names, actor: str, role: str) -> tuple[Part, ...]:
    """Who acted: a person by name (tutors and committee members act as themselves), or a
    member of staff by pseudonym (with the username, for those allowed to know it)."""
    title = ROLE_NAMES.get(role, role.capitalize())
    if actor.startswith("staff-"):
        username = names.staff(actor)
        return (f"{title} {username} ({actor})" if username else f"{title} {actor}",)
    person = names.person(actor)
    if person is not None:
        return (f"{title} ", Link(f"/console/people/{actor}", person))
    return (f"{title} {actor}",)


def timeline(history: Mapping[str, Any], names: Names) -> list[Moment]:
    """The history's records as moments, in log order (the newest last)."""
    person_id = str(history["person_id"])
    reading = Reading(names, person_id, {}, {})
    moments: list[Moment] = []
    for entry in history["events"]:
        details = entry["details"]
        if "certificate_id" in details and entry["subject"] == "certificate":
            reading.certificates.setdefault(entry["stream"], str(details["certificate_id"]))
        if entry["type"] == "person.course_delivered":
            day = entry.get("effective_on") or str(entry["recorded_at"])[:10]
            reading.courses[str(details["delivery_id"])] = (day, str(details.get("region")))
        sentence = SENTENCES.get(entry["type"])
        words = (
            sentence(reading, entry, details) if sentence is not None else _in_words(entry["type"])
        )
        whose = entry.get("person_id")
        moments.append(
            Moment(
                position=entry["position"],
                on=long_date(entry.get("effective_on") or str(entry["recorded_at"])[:10]),
                recorded_at=long_time(entry["recorded_at"]),
                words=words,
                actor=actor_of(names, str(entry["actor"]), str(entry["role"])),
                reason=entry.get("reason"),
                correction=entry["type"] in CORRECTIONS,
                whose=person_link(names, str(whose)) if whose and whose != person_id else None,
                type=entry["type"],
            )
        )
    return moments
