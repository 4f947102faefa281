"""Corrections as pure checks: what may be set right, and why not once a decision relied on it.

A correction is a new event with a reason, never an edit. It is refused when a certificate
decision counted what it would take back, and the refusal names the rule the decision applied,
the certificate and the date, so that staff know which decision stands in the way.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from ledger.domain.actors import Actor, Role
from ledger.domain.certificates import Counted
from ledger.domain.errors import Conflict, InvalidCommand, RuleViolation

_DECIDED = {
    ("R5", "granted"): "licence {cert} granted on {day}",
    ("R6", "renewed"): "the renewal of licence {cert} on {day}",
    ("R9", "certified"): "instructor certification {cert} certified on {day}",
    ("R9", "renewed"): "the renewal of instructor certification {cert} on {day}",
}


def course_retraction(delivered_on: date, certificate_id: str, counted: Counted | None) -> None:
    """R5, R6, R9: a course that a licence or instructor decision counted stays counted."""
    if counted is None:
        return
    what = "full programme" if counted.rule == "R9" else "course"
    decision = _DECIDED[(counted.rule, counted.decision)].format(
        cert=certificate_id, day=counted.decided_on
    )
    raise RuleViolation(
        counted.rule,
        f"{what} of {delivered_on} counted toward {decision}; it cannot be retracted",
    )


def attendance_correction(
    week: int,
    attended: bool,
    certificate_id: str | None,
    awarded_on: date | None,
    weeks_left: int = 0,
    weeks_required: int = 1,
) -> None:
    """R2: once an Associate Trainer qualification is awarded, a week may be corrected to
    absent only while the weeks left attended still meet R2 (`weeks_left`: attended weeks
    after the correction); otherwise the qualification relied on it."""
    if attended or certificate_id is None or weeks_left >= weeks_required:
        return
    raise RuleViolation(
        "R2",
        f"week {week} counted toward Associate Trainer {certificate_id} awarded on"
        f" {awarded_on}; without it {weeks_left} weeks would be attended, {weeks_required}"
        " required; it cannot be corrected to absent",
    )


def sign_off_withdrawer(actor: Actor, tutor: str | None) -> None:
    """R3: a sign-off is withdrawn by the project's own tutor, a registrar or an admin."""
    if actor.role in (Role.REGISTRAR, Role.ADMIN):
        return
    if actor.role is Role.TUTOR and actor.id == tutor:
        return
    raise RuleViolation(
        "R3", "only the project's own tutor, a registrar or an admin can withdraw its sign-off"
    )


def sign_off_withdrawal(
    signed_off_on: date | None, certificate_id: str | None, awarded_on: date | None
) -> None:
    """R3: a sign-off that an Associate Trainer qualification relied on stays."""
    if certificate_id is None:
        return
    raise RuleViolation(
        "R3",
        f"the sign-off of {signed_off_on} counted toward Associate Trainer {certificate_id}"
        f" awarded on {awarded_on}; it cannot be withdrawn",
    )


def duplicate_marking(
    duplicate: str, kept: str, erased: Collection[str], duplicate_of: dict[str, str | None]
) -> None:
    """Marking `duplicate` as the same person as `kept`: two distinct people, neither erased
    nor already a duplicate."""
    if duplicate == kept:
        raise InvalidCommand("person_id", "a person cannot be a duplicate of themselves")
    for person in (duplicate, kept):
        if person in erased:
            raise Conflict(f"person {person}'s data is erased; their records cannot be merged")
        already = duplicate_of.get(person)
        if already is not None:
            raise Conflict(f"person {person} is already marked a duplicate of {already}")


def duplicate_enrolments(shared_programmes: Collection[str]) -> None:
    """Two people merged are never both enrolled in one programme (one enrolment each, R4)."""
    if shared_programmes:
        raise Conflict(
            f"both people are enrolled in programme {sorted(shared_programmes)[0]};"
            " a person enrols in a programme once (R4), so they cannot be merged"
        )
