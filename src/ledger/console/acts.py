"""The committee's acts on a certificate (R5 to R10), each as the console offers it: the kind
of certificate it applies to, what the form asks, the command it runs, and sample answers to
rehearse it with before offering it.

The sample answers are plausible input (a one-day suspension, a scope one value smaller), so
that a rehearsal is refused only for what the person or the certificate cannot do (R10
impartiality, R6 renewal window, R8 revoked, R9 licence held too briefly), never for input
not yet typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.actors import Actor
from ledger.domain.certificates import Certificate, Licence, Qualification
from ledger.domain.errors import RuleViolation
from ledger.service import LedgerService, Receipt

KIND_WORDS = {
    "associate_trainer": "Associate Trainer qualification",
    "licence": "Licence",
    "instructor": "Instructor Certification",
}

EVENT_WORDS = {
    "certificate.associate_trainer_issued": "Associate Trainer awarded",
    "certificate.licence_granted": "Licence granted",
    "certificate.licence_renewed": "Licence renewed",
    "certificate.licence_suspended": "Licence suspended",
    "certificate.licence_reinstated": "Licence reinstated",
    "certificate.licence_scope_reduced": "Licence scope reduced",
    "certificate.licence_revoked": "Licence revoked",
    "certificate.instructor_certified": "Instructor certified",
    "certificate.instructor_renewed": "Instructor Certification renewed",
    "certificate.instructor_revoked": "Instructor Certification revoked",
}


@dataclass(frozen=True)
class Answers:
    """What a form gave for an act; the date of effect defaults to today."""

    on: date
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    material_version: str = ""
    reason: str = ""
    until: date | None = None


Run = Callable[[LedgerService, Actor, str, Answers], Receipt]
Sample = Callable[[LedgerService, str, date], Answers]


@dataclass(frozen=True)
class Act:
    slug: str
    kind: str  # the certificate kind it applies to
    label: str  # the link to it on the certificate page
    title: str  # its pages' heading
    button: str
    done: str  # the notice once done; {id} is the certificate acted on or issued
    run: Run
    sample: Sample
    asks: tuple[str, ...] = ()  # inputs besides the date of effect
    reason_rule: str = ""  # the rule that asks for a reason ("R7"), when one is asked
    warning: str = ""
    rule_fields: Mapping[str, str] = field(default_factory=dict)
    issues: bool = False  # it issues a new certificate (the page to go to next)

    @property
    def first_field(self) -> str:
        return self.asks[0] if self.asks else "on"


# -- sample answers -----------------------------------------------------------------------------


def _grant_sample(service: LedgerService, certificate_id: str, today: date) -> Answers:
    versions = sorted(service.published_versions())
    if not versions:
        raise RuleViolation("R5", "no edition of the training material is published yet")
    holder = service.person(service.certificate(certificate_id).holder_id)
    return Answers(today, (holder.region or "Region",), ("English",), versions[-1])


def _dated(service: LedgerService, certificate_id: str, today: date) -> Answers:
    return Answers(today)


def _suspension(service: LedgerService, certificate_id: str, today: date) -> Answers:
    return Answers(today, reason="rehearsal", until=today + timedelta(days=1))


def _reasoned(service: LedgerService, certificate_id: str, today: date) -> Answers:
    return Answers(today, reason="rehearsal")


def _smaller_scope(service: LedgerService, certificate_id: str, today: date) -> Answers:
    licence = service.licence(certificate_id)
    regions, languages = licence.regions, licence.languages
    if len(regions) > 1:
        return Answers(today, regions[:-1], languages, reason="rehearsal")
    if len(languages) > 1:
        return Answers(today, regions, languages[:-1], reason="rehearsal")
    raise RuleViolation(
        "R5",
        "the scope names one region and one language; a reduced scope keeps at least one of each",
    )


# -- the acts -------------------------------------------------------------------------------------


def _grant(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.grant_licence(actor, cid, a.regions, a.languages, a.material_version, a.on)


def _renew(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.renew_licence(actor, cid, a.on)


def _suspend(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    assert a.until is not None
    return s.suspend_licence(actor, cid, a.reason, a.until, a.on)


def _reinstate(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.reinstate_licence(actor, cid, a.on)


def _reduce(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.reduce_scope(actor, cid, a.regions, a.languages, a.reason, a.on)


def _revoke(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.revoke_licence(actor, cid, a.reason, a.on)


def _certify(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.certify_instructor(actor, cid, a.on)


def _renew_instructor(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.renew_instructor(actor, cid, a.on)


def _revoke_instructor(s: LedgerService, actor: Actor, cid: str, a: Answers) -> Receipt:
    return s.revoke_instructor(actor, cid, a.reason, a.on)


FINAL = (
    "Revocation is final (R8): it cannot be renewed or reinstated; only a new grant, after a"
    " new decision, restores it."
)

ACTS: dict[str, Act] = {
    act.slug: act
    for act in (
        Act(
            "grant-licence",
            "associate_trainer",
            "Grant a licence",
            "Grant a licence",
            "Grant the licence",
            "Licence {id} granted",
            _grant,
            _grant_sample,
            asks=("regions", "languages", "material_version"),
            rule_fields={"R5": "regions"},
            issues=True,
        ),
        Act(
            "renew",
            "licence",
            "Renew the licence",
            "Renew the licence",
            "Renew licence",
            "Licence {id} renewed",
            _renew,
            _dated,
        ),
        Act(
            "suspend",
            "licence",
            "Suspend the licence",
            "Suspend the licence",
            "Suspend licence",
            "Licence {id} suspended",
            _suspend,
            _suspension,
            asks=("reason", "until"),
            reason_rule="R7",
            rule_fields={"R7": "until"},
        ),
        Act(
            "reinstate",
            "licence",
            "Reinstate the licence",
            "Reinstate the licence",
            "Reinstate licence",
            "Licence {id} reinstated",
            _reinstate,
            _dated,
        ),
        Act(
            "reduce-scope",
            "licence",
            "Reduce the scope",
            "Reduce the licence's scope",
            "Reduce scope",
            "Scope of licence {id} reduced",
            _reduce,
            _smaller_scope,
            asks=("regions", "languages", "reason"),
            reason_rule="R5",
            rule_fields={"R5": "regions"},
        ),
        Act(
            "revoke",
            "licence",
            "Revoke the licence",
            "Revoke the licence",
            "Revoke licence",
            "Licence {id} revoked",
            _revoke,
            _reasoned,
            asks=("reason",),
            reason_rule="R8",
            warning=FINAL,
            rule_fields={"R8": "reason"},
        ),
        Act(
            "certify-instructor",
            "licence",
            "Certify as instructor",
            "Certify the holder as instructor",
            "Certify instructor",
            "Instructor Certification {id} granted",
            _certify,
            _dated,
            issues=True,
        ),
        Act(
            "renew-instructor",
            "instructor",
            "Renew the Instructor Certification",
            "Renew the Instructor Certification",
            "Renew certification",
            "Instructor Certification {id} renewed",
            _renew_instructor,
            _dated,
        ),
        Act(
            "revoke-instructor",
            "instructor",
            "Revoke the Instructor Certification",
            "Revoke the Instructor Certification",
            "Revoke certification",
            "Instructor Certification {id} revoked",
            _revoke_instructor,
            _reasoned,
            asks=("reason",),
            reason_rule="R8",
            warning=FINAL,
            rule_fields={"R8": "reason"},
        ),
    )
}


def kind_of(cert: Certificate) -> str:
    """The kind of a certificate, as the register and the acts name it."""
    if isinstance(cert, Qualification):
        return "associate_trainer"
    if isinstance(cert, Licence):
        return "licence"
    return "instructor"


def acts_for(kind: str) -> list[Act]:
    return [act for act in ACTS.values() if act.kind == kind]
