"""The committee's decisions (R4 to R11) and appeals against them, with the impartiality cases
they are checked against (R10, R11)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from ledger.domain import rules
from ledger.domain.actors import Actor
from ledger.domain.appeal import Appeal, AppealDecided, AppealLodged
from ledger.domain.certificates import (
    Certificate,
    InstructorCertification,
    InstructorCertified,
    InstructorRenewed,
    InstructorRevoked,
    Kind,
    Licence,
    LicenceGranted,
    LicenceReinstated,
    LicenceRenewed,
    LicenceRevoked,
    LicenceScopeReduced,
    LicenceSuspended,
    Qualification,
    QualificationIssued,
    certificate_stream,
    new_certificate_id,
)
from ledger.domain.enrolment import QualificationAwarded
from ledger.domain.errors import Conflict, InvalidCommand, RuleViolation
from ledger.domain.person import Delivery
from ledger.domain.policy import Policy
from ledger.domain.project import FieldProject
from ledger.domain.values import PersonalText
from ledger.service_core import ServiceCore, about, names
from ledger.service_ports import Receipt


def _ids(deliveries: Iterable[Delivery]) -> tuple[str, ...]:
    return tuple(sorted(d.delivery_id for d in deliveries))


INSTRUCTOR = "instructor certification"


class DecisionCommands(ServiceCore):
    # -- impartiality ----------------------------------------------------------------------

    def _case(
        self, person_id: str, project: FieldProject | None, evidence: Iterable[str] = ()
    ) -> rules.Case:
        """Who has a part in a decision about `person_id` (R10, R11)."""
        deliveries = self.deliveries_of(self.person(person_id))
        return rules.Case(
            concerns=person_id,
            tutors=frozenset(
                [project.tutor_id] if project is not None and project.tutor_id else []
            ),
            teachers=frozenset(d.observed_by for d in deliveries if d.observed_by),
            evidence_recorders=frozenset(evidence),
        )

    def _certificate_case(self, cert: Certificate, evidence: Iterable[str] = ()) -> rules.Case:
        """The case behind a certificate: its holder, and the field project that led to it
        (through the licence and the qualification it rests on)."""
        found: Certificate = cert
        if isinstance(found, InstructorCertification):
            found = self.licence(found.licence_id)
        if isinstance(found, Licence):
            found = self.certificate(found.qualification_id)
        project = self.project(found.project_id) if isinstance(found, Qualification) else None
        return self._case(cert.holder_id, project, evidence)

    # -- decisions -------------------------------------------------------------------------

    def award_qualification(
        self, actor: Actor, programme_id: str, person_id: str, on: date | None = None
    ) -> Receipt:
        """R4: Associate Trainer, awarded by the committee when R2 and R3 hold."""
        now, day = self._day(on)
        programme = self.programme(programme_id)
        enrolment = self.enrolment(programme_id, person_id)
        project = self.project(enrolment.project_id) if enrolment.project_id else None
        evidence = set(enrolment.attendance_recorders)
        if project is not None and project.signed_off_by:
            evidence.add(project.signed_off_by)
        rules.r10_decision(actor, self._case(enrolment.person_id, project, evidence))
        rules.r4_associate_trainer(enrolment.active, enrolment.certificate_id is not None)
        rules.r2_attendance(enrolment.weeks_attended, programme.policy)
        rules.r3_signed_off_by_tutor(
            None if project is None else project.status,
            None if project is None else project.signed_off_by,
            None if project is None else project.tutor_id,
            returned_on=None if project is None else project.returned_on,
        )
        assert project is not None
        certificate_id = new_certificate_id(Kind.ASSOCIATE_TRAINER)
        qualification = Qualification.start(
            QualificationIssued,
            certificate_stream(certificate_id),
            actor,
            now,
            day,
            certificate_id=certificate_id,
            holder_id=enrolment.person_id,
            programme_id=str(programme.id),
            enrolment_id=str(enrolment.id),
            project_id=str(project.id),
            weeks_attended=enrolment.weeks_attended,
        )
        enrolment.record(QualificationAwarded, actor, now, day, certificate_id=certificate_id)
        return self._save(certificate_id, qualification, enrolment)

    def grant_licence(
        self,
        actor: Actor,
        qualification_id: str,
        regions: Sequence[str],
        languages: Sequence[str],
        material_version: str,
        on: date | None = None,
    ) -> Receipt:
        now, day = self._day(on)
        qualification = self.certificate(qualification_id)
        if not isinstance(qualification, Qualification):
            raise RuleViolation(
                "R5", f"{qualification_id} is not an Associate Trainer qualification"
            )
        policy = self.policy_for(qualification.programme_id)
        every = self.deliveries_of(self.person(qualification.holder_id))
        courses = [d for d in every if qualification.awarded_on <= d.delivered_on <= day]
        rules.r10_decision(
            actor, self._certificate_case(qualification, {d.recorded_by for d in courses})
        )
        rules.r5_licence(
            has_qualification=qualification.awarded_on <= day,
            courses_delivered=len(courses),
            regions=names("regions", regions),
            languages=names("languages", languages),
            material_version=material_version,
            published_versions=self.published_versions(),
            policy=policy,
            qualified_on=qualification.awarded_on,
            before=[d.delivered_on for d in every if d.delivered_on < qualification.awarded_on],
        )
        certificate_id = new_certificate_id(Kind.LICENCE)
        licence = Licence.start(
            LicenceGranted,
            certificate_stream(certificate_id),
            actor,
            now,
            day,
            certificate_id=certificate_id,
            holder_id=qualification.holder_id,
            qualification_id=qualification.certificate_id,
            programme_id=qualification.programme_id,
            regions=names("regions", regions),
            languages=names("languages", languages),
            material_version=material_version,
            valid_from=day,
            valid_until=rules.r5_valid_until(day, policy),
            courses=_ids(courses),
        )
        return self._save(certificate_id, licence)

    def renew_licence(self, actor: Actor, certificate_id: str, on: date | None = None) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        courses = [
            d
            for d in self.deliveries_of(self.person(licence.holder_id))
            if licence.term_starts_on <= d.delivered_on <= day
        ]
        rules.r10_decision(actor, self._certificate_case(licence, {d.recorded_by for d in courses}))
        new_until = rules.r6_renewal(
            day,
            licence.valid_until,
            len(courses),
            licence.revoked_on is not None,
            self.policy_for(licence.programme_id),
            term_started_on=licence.term_starts_on,
        )
        licence.record(
            LicenceRenewed,
            actor,
            now,
            day,
            previous_until=licence.valid_until,
            valid_until=new_until,
            courses=_ids(courses),
        )
        return self._save(licence.certificate_id, licence)

    def suspend_licence(
        self, actor: Actor, certificate_id: str, reason: str, until: date, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        rules.r10_decision(actor, self._certificate_case(licence))
        rules.r8_not_revoked(licence.status_on(day) == "revoked", "suspended")
        rules.r7_suspension(reason, day, until, self.policy_for(licence.programme_id))
        status = licence.status_on(day)
        if status != "valid":
            raise Conflict(
                f"the licence is {status} on {day}; only a valid licence can be suspended"
            )
        licence.record(
            LicenceSuspended,
            actor,
            now,
            day,
            reason=PersonalText(reason.strip(), licence.holder_id),
            until=until,
        )
        return self._save(licence.certificate_id, licence)

    def reinstate_licence(
        self, actor: Actor, certificate_id: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        rules.r10_decision(actor, self._certificate_case(licence))
        rules.r8_not_revoked(licence.revoked_on is not None, "reinstated")
        if licence.active_suspension(day) is None:
            raise Conflict(f"the licence is not suspended on {day}")
        licence.record(LicenceReinstated, actor, now, day)
        return self._save(licence.certificate_id, licence)

    def reduce_scope(
        self,
        actor: Actor,
        certificate_id: str,
        regions: Sequence[str],
        languages: Sequence[str],
        reason: str,
        on: date | None = None,
    ) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        rules.r10_decision(actor, self._certificate_case(licence))
        rules.r8_not_revoked(licence.revoked_on is not None, "changed")
        new_regions, new_languages = names("regions", regions), names("languages", languages)
        if not new_regions or not new_languages:
            raise RuleViolation("R5", "scope must keep at least one region and one language")
        if not set(new_regions) <= set(licence.regions) or not set(new_languages) <= set(
            licence.languages
        ):
            raise InvalidCommand("regions", "a reduced scope may only drop regions or languages")
        if (new_regions, new_languages) == (licence.regions, licence.languages):
            raise InvalidCommand("regions", "the scope is unchanged")
        licence.record(
            LicenceScopeReduced,
            actor,
            now,
            day,
            regions=new_regions,
            languages=new_languages,
            reason=about(licence.holder_id, "reason", reason),
        )
        return self._save(licence.certificate_id, licence)

    def revoke_licence(
        self, actor: Actor, certificate_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        rules.r10_decision(actor, self._certificate_case(licence))
        rules.r8_revocation(reason, licence.revoked_on is not None)
        licence.record(
            LicenceRevoked, actor, now, day, reason=PersonalText(reason.strip(), licence.holder_id)
        )
        return self._save(licence.certificate_id, licence)

    def _instructor_term(
        self, actor: Actor, licence: Licence, day: date
    ) -> tuple[date, tuple[str, ...]]:
        """R10 and R9 for an instructor decision on the holder of `licence`: the new end date
        and the full programmes counted."""
        deliveries = self.deliveries_of(self.person(licence.holder_id))
        rules.r10_decision(
            actor, self._certificate_case(licence, {d.recorded_by for d in deliveries})
        )
        programmes = [d for d in deliveries if d.full_programme]
        valid_until = rules.r9_instructor(
            licence.status_on(day) == "valid",
            licence.valid_from,
            day,
            len(programmes),
            self.policy_for(licence.programme_id),
        )
        return valid_until, _ids(programmes)

    def certify_instructor(self, actor: Actor, licence_id: str, on: date | None = None) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(licence_id)
        valid_until, programmes = self._instructor_term(actor, licence, day)
        certificate_id = new_certificate_id(Kind.INSTRUCTOR)
        cert = InstructorCertification.start(
            InstructorCertified,
            certificate_stream(certificate_id),
            actor,
            now,
            day,
            certificate_id=certificate_id,
            holder_id=licence.holder_id,
            licence_id=licence.certificate_id,
            valid_from=day,
            valid_until=valid_until,
            programmes=programmes,
        )
        return self._save(certificate_id, cert)

    def renew_instructor(
        self, actor: Actor, certificate_id: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        cert = self.instructor(certificate_id)
        rules.r8_not_revoked(cert.revoked_on is not None, "renewed", INSTRUCTOR)
        valid_until, programmes = self._instructor_term(actor, self.licence(cert.licence_id), day)
        cert.record(
            InstructorRenewed, actor, now, day, valid_until=valid_until, programmes=programmes
        )
        return self._save(cert.certificate_id, cert)

    def revoke_instructor(
        self, actor: Actor, certificate_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        cert = self.instructor(certificate_id)
        rules.r10_decision(actor, self._certificate_case(cert))
        rules.r8_revocation(reason, cert.revoked_on is not None, INSTRUCTOR)
        cert.record(
            InstructorRevoked, actor, now, day, reason=PersonalText(reason.strip(), cert.holder_id)
        )
        return self._save(cert.certificate_id, cert)

    # -- appeals ---------------------------------------------------------------------------

    def lodge_appeal(
        self,
        actor: Actor,
        certificate_id: str,
        decision_version: int,
        grounds: str,
        on: date | None = None,
    ) -> Receipt:
        now, day = self._day(on)
        cert = self.certificate(certificate_id)
        decision = cert.decision(decision_version)
        if decision is None:
            raise InvalidCommand(
                "decision_version",
                f"version {decision_version} of {certificate_id} is not a decision",
            )
        programme_id = getattr(cert, "programme_id", None)
        policy = self.policy_for(programme_id) if programme_id else Policy()
        rules.r11_lodge(decision.decided_on, day, policy)
        appeal = Appeal.start(
            AppealLodged,
            uuid.uuid4(),
            actor,
            now,
            day,
            certificate_id=cert.certificate_id,
            decision_version=decision.version,
            decision_type=decision.type,
            decided_by=decision.decided_by,
            decided_on=decision.decided_on,
            appellant_id=cert.holder_id,
            grounds=about(cert.holder_id, "grounds", grounds),
        )
        return self._save(str(appeal.id), appeal)

    def decide_appeal(
        self,
        actor: Actor,
        appeal_id: str,
        outcome: str,
        reasoning: str,
        on: date | None = None,
    ) -> Receipt:
        now, day = self._day(on)
        appeal = self.appeal(appeal_id)
        if appeal.outcome is not None:
            raise Conflict(f"the appeal is already decided ({appeal.outcome})")
        if outcome not in ("upheld", "rejected"):
            raise InvalidCommand("outcome", "must be 'upheld' or 'rejected'")
        case = self._certificate_case(self.certificate(appeal.certificate_id))
        rules.r11_panel(
            actor, appeal.decided_by, replace(case, appellants=frozenset({appeal.lodged_by}))
        )
        appeal.record(
            AppealDecided,
            actor,
            now,
            day,
            outcome=outcome,
            reasoning=about(appeal.appellant_id, "reasoning", reasoning),
        )
        return self._save(str(appeal.id), appeal)
