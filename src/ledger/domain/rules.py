"""Policy rules R1 to R11 as pure functions of plain values.

Each raises `RuleViolation` with the rule id and what is missing, or returns quietly (or, for
the rules that compute something, returns it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ledger.domain.actors import Actor, Role
from ledger.domain.calendar import add_months, term_end
from ledger.domain.errors import RuleViolation
from ledger.domain.policy import Policy


def r1_team_member(
    members: Collection[str],
    candidate: str,
    tutor: str | None,
    organisations: Mapping[str, str],
    policy: Policy,
) -> None:
    """R1 when adding `candidate`: team size, tutor not a member, no shared organisation."""
    if candidate in members:
        raise RuleViolation("R1", f"person {candidate} is already in the team")
    if len(members) + 1 > policy.team_max:
        raise RuleViolation(
            "R1", f"team already has {len(members)} members, at most {policy.team_max} allowed"
        )
    if tutor is not None:
        if candidate == tutor:
            raise RuleViolation("R1", "the tutor cannot be a team member")
        _r1_impartial(tutor, [*members, candidate], organisations)


def r1_tutor(
    members: Collection[str], tutor: str, organisations: Mapping[str, str], has_tutor: bool
) -> None:
    """R1 when assigning the tutor: exactly one, not a member, no shared organisation."""
    if has_tutor:
        raise RuleViolation("R1", "the project already has its one tutor")
    if tutor in members:
        raise RuleViolation("R1", "the tutor cannot be a team member")
    _r1_impartial(tutor, members, organisations)


def r1_team_complete(member_count: int, has_tutor: bool, policy: Policy) -> None:
    """R1 before sign-off: a team of the allowed size with exactly one tutor."""
    if not policy.team_min <= member_count <= policy.team_max:
        raise RuleViolation(
            "R1",
            f"team has {member_count} members, {policy.team_min} to {policy.team_max} required",
        )
    if not has_tutor:
        raise RuleViolation("R1", "the project has no tutor")


def _r1_impartial(tutor: str, members: Collection[str], organisations: Mapping[str, str]) -> None:
    tutor_org = _normalise(organisations.get(tutor))
    if not tutor_org:
        return
    for member in members:
        if _normalise(organisations.get(member)) == tutor_org:
            raise RuleViolation(
                "R1", f"tutor shares an organisation with team member {member} (impartiality)"
            )


def _normalise(organisation: str | None) -> str:
    return " ".join((organisation or "").casefold().split())


def r2_attendance(weeks_attended: int, policy: Policy) -> None:
    """R2: at least `weeks_required` of the in-class weeks attended."""
    if weeks_attended < policy.weeks_required:
        raise RuleViolation(
            "R2",
            f"attended {weeks_attended} of {policy.weeks_total} weeks,"
            f" {policy.weeks_required} required",
        )


def r3_signed_off_by_tutor(
    project_status: str | None,
    signed_by: str | None,
    tutor: str | None,
    *,
    returned_on: date | None = None,
) -> None:
    """R3: the person's own field project is signed off by its own tutor."""
    if project_status is None:
        raise RuleViolation("R3", "the person is in no field project")
    if project_status == "returned_for_rework" and returned_on is not None:
        raise RuleViolation(
            "R3", f"the field project was returned for rework on {returned_on}, not yet signed off"
        )
    if project_status != "signed_off":
        raise RuleViolation(
            "R3", f"the field project is {project_status.replace('_', ' ')}, not signed off"
        )
    if signed_by is None or signed_by != tutor:
        raise RuleViolation("R3", "the field project was not signed off by its own tutor")


def r3_sign_off_actor(actor: Actor, tutor: str | None) -> None:
    """R3 at sign-off: only the project's own tutor signs it off."""
    if tutor is None:
        raise RuleViolation("R3", "the project has no tutor to sign it off")
    if actor.role is not Role.TUTOR or actor.id != tutor:
        raise RuleViolation("R3", "only the project's own tutor can sign it off")


def r4_associate_trainer(enrolment_active: bool, already_awarded: bool) -> None:
    """R4: the enrolment is active and the qualification not yet awarded for this programme.

    R2 and R3 are checked by their own functions before this one.
    """
    if not enrolment_active:
        raise RuleViolation("R4", "the enrolment is withdrawn")
    if already_awarded:
        raise RuleViolation("R4", "Associate Trainer already awarded for this programme")


def r5_licence(
    has_qualification: bool,
    courses_delivered: int,
    regions: Collection[str],
    languages: Collection[str],
    material_version: str,
    published_versions: Collection[str],
    policy: Policy,
    *,
    qualified_on: date | None = None,
    before: Sequence[date] = (),
) -> None:
    """R5: an Associate Trainer with enough local courses, and a complete scope.

    `courses_delivered` counts the courses since the qualification of `qualified_on`; `before`
    are the dates of courses delivered before it, which do not count: a refusal names them,
    since a course recorded on the wrong date reads as missing otherwise."""
    if not has_qualification:
        raise RuleViolation("R5", "no Associate Trainer qualification held")
    required = policy.licence_courses_required
    if courses_delivered < required:
        raise RuleViolation("R5", _r5_missing(courses_delivered, required, qualified_on, before))
    if not regions:
        raise RuleViolation("R5", "scope names no region")
    if not languages:
        raise RuleViolation("R5", "scope names no language")
    if material_version not in published_versions:
        raise RuleViolation("R5", f"material version {material_version!r} is not published")


def _r5_missing(
    delivered: int, required: int, qualified_on: date | None, before: Sequence[date]
) -> str:
    if qualified_on is None:
        return f"{_count(delivered, 'local course')} delivered, {required} required"
    if before and delivered == 0:
        text = (
            f"{_count(len(before), 'course')} delivered, but on {_dates(before)},"
            f" before the qualification of {qualified_on}; courses must follow it"
        )
        return text if required == 1 else f"{text} ({required} required)"
    text = (
        f"{_count(delivered, 'local course')} delivered since the qualification of"
        f" {qualified_on}, {required} required"
    )
    if before:
        text += f"; {len(before)} more delivered on {_dates(before)}, before it, do not count"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _dates(days: Sequence[date]) -> str:
    """Dates as a sentence reads them: "2013-06-30", "2013-06-30 and 2013-07-02"."""
    written = [d.isoformat() for d in sorted(days)]
    if len(written) == 1:
        return written[0]
    return f"{', '.join(written[:-1])} and {written[-1]}"


def r5_valid_until(valid_from: date, policy: Policy) -> date:
    return term_end(valid_from, policy.licence_months)


def r6_renewal(
    on: date,
    valid_until: date,
    courses_in_term: int,
    revoked: bool,
    policy: Policy,
    *,
    term_started_on: date | None = None,
) -> date:
    """R6: check the renewal window and courses; return the new valid-until date."""
    if revoked:
        raise RuleViolation("R8", "a revoked licence cannot be renewed")
    opens = valid_until - timedelta(days=policy.renewal_opens_days_before)
    closes = add_months(valid_until, policy.renewal_closes_months_after)
    if on < opens:
        raise RuleViolation(
            "R6", f"renewal opens on {opens.isoformat()}, {(opens - on).days} days from {on}"
        )
    if on > closes:
        raise RuleViolation("R6", f"renewal closed on {closes.isoformat()}; a new grant is needed")
    if courses_in_term < policy.renewal_courses_required:
        since = "" if term_started_on is None else f" since {term_started_on}"
        raise RuleViolation(
            "R6",
            f"{_count(courses_in_term, 'course')} delivered during the licence term{since},"
            f" {policy.renewal_courses_required} required",
        )
    if on > valid_until:
        return term_end(on, policy.renewal_months)
    return add_months(valid_until + timedelta(days=1), policy.renewal_months) - timedelta(days=1)


def r7_suspension(reason: str, start: date, until: date, policy: Policy) -> None:
    """R7: a reason and an end at most `suspension_max_months` ahead of the start."""
    if not reason.strip():
        raise RuleViolation("R7", "a suspension needs a reason")
    if until <= start:
        raise RuleViolation("R7", f"suspension end {until} is not after its start {start}")
    latest = add_months(start, policy.suspension_max_months)
    if until > latest:
        raise RuleViolation(
            "R7",
            f"suspension ends {until}, at most {policy.suspension_max_months} months"
            f" ahead ({latest}) allowed",
        )


def r8_revocation(reason: str, revoked: bool, what: str = "licence") -> None:
    """R8: a reason is needed, and revocation is final (`what`: the kind of certificate)."""
    if revoked:
        raise RuleViolation("R8", f"the {what} is already revoked; revocation is final")
    if not reason.strip():
        raise RuleViolation("R8", "a revocation needs a reason")


def r8_not_revoked(revoked: bool, action: str, what: str = "licence") -> None:
    if revoked:
        raise RuleViolation("R8", f"a revoked {what} cannot be {action}")


def r9_instructor(
    licence_valid: bool,
    licence_held_since: date | None,
    on: date,
    full_programmes: int,
    policy: Policy,
) -> date:
    """R9: an active licence held long enough and programmes delivered; returns valid-until."""
    if not licence_valid or licence_held_since is None:
        raise RuleViolation("R9", f"no active licence on {on}")
    held_until = add_months(licence_held_since, policy.instructor_licence_months)
    if on < held_until:
        months = (on.year - licence_held_since.year) * 12 + on.month - licence_held_since.month
        if on.day < licence_held_since.day:
            months -= 1
        raise RuleViolation(
            "R9",
            f"licence held for {max(months, 0)} months since {licence_held_since},"
            f" {policy.instructor_licence_months} required (from {held_until})",
        )
    if full_programmes < policy.instructor_programmes_required:
        raise RuleViolation(
            "R9",
            f"{_count(full_programmes, 'full programme')} delivered,"
            f" {policy.instructor_programmes_required} required",
        )
    return term_end(on, policy.instructor_months)


@dataclass(frozen=True)
class Case:
    """Who is involved in the case a decision or an appeal is about (R10, R11 impartiality).

    `concerns` is the person the decision is about; `tutors` coached their field project;
    `teachers` observed their courses as faculty; `appellants` lodged an appeal in the case;
    `evidence_recorders` recorded the evidence the decision rests on.
    """

    concerns: str
    tutors: frozenset[str] = frozenset()
    teachers: frozenset[str] = frozenset()
    appellants: frozenset[str] = frozenset()
    evidence_recorders: frozenset[str] = frozenset()

    def conflict(self, person: str) -> str | None:
        """Why `person` may not decide in this case, or None when they are impartial."""
        if person == self.concerns:
            return f"{person} is the person the decision concerns"
        if person in self.tutors:
            return f"{person} tutored the field project of the person concerned"
        if person in self.teachers:
            return f"{person} taught the person concerned (observed their courses)"
        if person in self.appellants:
            return f"{person} lodged an appeal in this case"
        if person in self.evidence_recorders:
            return f"{person} recorded evidence for this decision"
        return None


def r10_decision(actor: Actor, case: Case) -> None:
    """R10: decisions are the committee's, never taken by anyone with a part in the case."""
    if actor.role is not Role.COMMITTEE:
        raise RuleViolation("R10", f"decisions are taken by the committee, not the {actor.role}")
    conflict = case.conflict(actor.id)
    if conflict is not None:
        raise RuleViolation("R10", f"{conflict} (impartiality)")


def r11_lodge(decided_on: date, lodged_on: date, policy: Policy) -> None:
    """R11: an appeal within `appeal_days` of the decision."""
    if lodged_on < decided_on:
        raise RuleViolation("R11", "an appeal cannot precede the decision")
    deadline = decided_on + timedelta(days=policy.appeal_days)
    if lodged_on > deadline:
        raise RuleViolation(
            "R11",
            f"lodged {(lodged_on - decided_on).days} days after the decision,"
            f" within {policy.appeal_days} required",
        )


def r11_panel(actor: Actor, decided_by: str, case: Case) -> None:
    """R11: decided by a committee panel member who did not take the decision and has no part
    in the case."""
    if actor.role is not Role.COMMITTEE:
        raise RuleViolation("R11", f"appeals are decided by a panel member, not the {actor.role}")
    if actor.id == decided_by:
        raise RuleViolation("R11", "the panel member took the decision under appeal")
    conflict = case.conflict(actor.id)
    if conflict is not None:
        raise RuleViolation("R11", f"{conflict} (impartiality)")
