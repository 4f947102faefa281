"""The service layer: each command loads aggregates, checks the rules, and saves atomically.

The API and the CLI call only this layer. Every command takes the acting `Actor`; dates of
effect default to today and may be in the past (recording late), never in the future.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from ledger.clock import Clock
from ledger.domain import rules
from ledger.domain.actors import Actor, Role
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
    parse_certificate_id,
)
from ledger.domain.enrolment import (
    AttendanceRecorded,
    Enrolled,
    Enrolment,
    EnrolmentWithdrawn,
    JoinedProject,
    QualificationAwarded,
    enrolment_id,
)
from ledger.domain.errors import Conflict, InvalidCommand, NotFound, RuleViolation
from ledger.domain.person import (
    ERASURE_REASONS,
    CourseDelivered,
    NamePublicationChanged,
    Person,
    PersonalDataErased,
    PersonRegistered,
    PublicListingChanged,
)
from ledger.domain.policy import Policy
from ledger.domain.programme import (
    CATALOGUE_ID,
    Catalogue,
    CatalogueOpened,
    MaterialVersionPublished,
    Programme,
    ProgrammeOpened,
    WeekScheduled,
)
from ledger.domain.project import (
    FieldProject,
    ProjectRegistered,
    ProjectReturned,
    ProjectSignedOff,
    TeamMemberAssigned,
    TutorAssigned,
)
from ledger.domain.values import PersonalText

MAX_TEXT = 500


class Repository(Protocol):
    """What the service needs of a store (implemented by `ledger.store.application.Store`)."""

    def get(self, kind: str, aggregate_id: UUID, cls: type[Any] | None = None) -> Any: ...

    def exists(self, aggregate_id: UUID) -> bool: ...

    def save(self, *aggregates: Any) -> list[int]: ...

    def forget_cached(self) -> None: ...


class PersonalData(Protocol):
    def destroy(self, person: str) -> None: ...


@dataclass(frozen=True)
class Receipt:
    """What a command did: the id it created or changed, and the log positions it wrote."""

    id: str
    positions: tuple[int, ...] = field(default_factory=tuple)

    @property
    def last_position(self) -> int:
        return max(self.positions, default=0)


def _text(name: str, value: str, *, optional: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(name, "must be text")
    cleaned = value.strip()
    if not cleaned and not optional:
        raise InvalidCommand(name, "must not be empty")
    if len(cleaned) > MAX_TEXT:
        raise InvalidCommand(name, f"must be at most {MAX_TEXT} characters")
    return cleaned


def _about(person: str, name: str, value: str) -> PersonalText:
    """Checked free text about `person`: encrypted under their data key, shredded with it."""
    return PersonalText(_text(name, value), person)


def _tutors_note(project: FieldProject, text: str) -> PersonalText:
    """A sign-off note or return reason is its tutor's own words (R3: only the tutor writes
    them), so it is their personal data and erasing the tutor shreds it."""
    if project.tutor_id is None:
        raise RuleViolation("R3", "the project has no tutor to sign it off or return it")
    return PersonalText(text, project.tutor_id)


def _names(name: str, values: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(_text(name, v) for v in values)
    if len(set(cleaned)) != len(cleaned):
        raise InvalidCommand(name, "lists a value twice")
    return cleaned


def _uuid(name: str, value: str | UUID) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise InvalidCommand(name, f"{value!r} is not an id") from None


class LedgerService:
    def __init__(self, repo: Repository, personal_data: PersonalData, clock: Clock) -> None:
        self.repo = repo
        self.personal_data = personal_data
        self.clock = clock

    # -- helpers ---------------------------------------------------------------------------

    def _day(self, on: date | None, name: str = "on") -> tuple[Any, date]:
        now = self.clock.now()
        day = on or now.date()
        if day > now.date():
            raise InvalidCommand(name, f"{day} is in the future; record events once they happen")
        return now, day

    def _save(self, ident: str, *aggregates: Any) -> Receipt:
        return Receipt(id=ident, positions=tuple(self.repo.save(*aggregates)))

    def programme(self, programme_id: str | UUID) -> Programme:
        return self.repo.get("programme", _uuid("programme_id", programme_id), Programme)  # type: ignore[no-any-return]

    def person(self, person_id: str | UUID) -> Person:
        return self.repo.get("person", _uuid("person_id", person_id), Person)  # type: ignore[no-any-return]

    def enrolment(self, programme_id: str | UUID, person_id: str | UUID) -> Enrolment:
        ident = enrolment_id(_uuid("programme_id", programme_id), _uuid("person_id", person_id))
        return self.repo.get("enrolment", ident, Enrolment)  # type: ignore[no-any-return]

    def project(self, project_id: str | UUID) -> FieldProject:
        return self.repo.get("project", _uuid("project_id", project_id), FieldProject)  # type: ignore[no-any-return]

    def certificate(self, certificate_id: str) -> Certificate:
        _, normal = parse_certificate_id(certificate_id)
        return self.repo.get("certificate", certificate_stream(normal), Certificate)  # type: ignore[no-any-return]

    def licence(self, certificate_id: str) -> Licence:
        cert = self.certificate(certificate_id)
        if not isinstance(cert, Licence):
            raise InvalidCommand("certificate_id", f"{certificate_id} is not a licence")
        return cert

    def instructor(self, certificate_id: str) -> InstructorCertification:
        cert = self.certificate(certificate_id)
        if not isinstance(cert, InstructorCertification):
            raise InvalidCommand(
                "certificate_id", f"{certificate_id} is not an instructor certification"
            )
        return cert

    def appeal(self, appeal_id: str | UUID) -> Appeal:
        return self.repo.get("appeal", _uuid("appeal_id", appeal_id), Appeal)  # type: ignore[no-any-return]

    def policy_for(self, programme_id: str) -> Policy:
        return self.programme(programme_id).policy

    # -- programmes and material -----------------------------------------------------------

    def open_programme(
        self,
        actor: Actor,
        title: str,
        starts_on: date,
        ends_on: date,
        material_version: str,
        policy: dict[str, int] | None = None,
    ) -> Receipt:
        now = self.clock.now()
        if ends_on <= starts_on:
            raise InvalidCommand("ends_on", "must be after starts_on")
        checked = Policy.from_dict(policy or {})
        programme = Programme.start(
            ProgrammeOpened,
            uuid.uuid4(),
            actor,
            now,
            title=_text("title", title),
            starts_on=starts_on,
            ends_on=ends_on,
            material_version=_text("material_version", material_version),
            policy=checked.to_dict(),
        )
        return self._save(str(programme.id), programme)

    def schedule_week(
        self,
        actor: Actor,
        programme_id: str,
        number: int,
        starts_on: date,
        ends_on: date,
        place: str,
        modules: Sequence[str],
    ) -> Receipt:
        now = self.clock.now()
        programme = self.programme(programme_id)
        if not 1 <= number <= programme.policy.weeks_total:
            raise InvalidCommand("number", f"must be 1 to {programme.policy.weeks_total}")
        if number in programme.weeks:
            raise Conflict(f"week {number} is already scheduled")
        if ends_on < starts_on:
            raise InvalidCommand("ends_on", "must not be before starts_on")
        programme.record(
            WeekScheduled,
            actor,
            now,
            number=number,
            starts_on=starts_on,
            ends_on=ends_on,
            place=_text("place", place),
            modules=_names("modules", modules),
        )
        return self._save(str(programme.id), programme)

    def publish_material(
        self, actor: Actor, version: str, title: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        if self.repo.exists(CATALOGUE_ID):
            catalogue: Catalogue = self.repo.get("catalogue", CATALOGUE_ID, Catalogue)
        else:
            catalogue = Catalogue.start(CatalogueOpened, CATALOGUE_ID, actor, now)
        version = _text("version", version)
        if version in catalogue.versions:
            raise Conflict(f"material version {version} is already published")
        catalogue.record(
            MaterialVersionPublished, actor, now, day, version=version, title=_text("title", title)
        )
        return self._save(version, catalogue)

    def published_versions(self) -> dict[str, str]:
        if not self.repo.exists(CATALOGUE_ID):
            return {}
        catalogue: Catalogue = self.repo.get("catalogue", CATALOGUE_ID, Catalogue)
        return dict(catalogue.versions)

    # -- people ----------------------------------------------------------------------------

    def register_person(
        self, actor: Actor, name: str, email: str, organisation: str, region: str, country: str
    ) -> Receipt:
        now = self.clock.now()
        email = _text("email", email)
        if "@" not in email:
            raise InvalidCommand("email", "is not an email address")
        person = Person.start(
            PersonRegistered,
            uuid.uuid4(),
            actor,
            now,
            name=_text("name", name),
            email=email,
            organisation=_text("organisation", organisation),
            region=_text("region", region),
            country=_text("country", country),
        )
        return self._save(str(person.id), person)

    def record_course(
        self,
        actor: Actor,
        person_id: str,
        delivered_on: date,
        region: str,
        participants: int,
        full_programme: bool = False,
        observed_by: str | None = None,
    ) -> Receipt:
        now, day = self._day(delivered_on, "delivered_on")
        person = self.person(person_id)
        if person.erased:
            raise Conflict("the person's data is erased; no new history is recorded")
        if participants < 1:
            raise InvalidCommand("participants", "must be at least 1")
        delivery = str(uuid.uuid4())
        person.record(
            CourseDelivered,
            actor,
            now,
            day,
            delivery_id=delivery,
            region=_text("region", region),
            participants=participants,
            full_programme=full_programme,
            observed_by=None if observed_by is None else _text("observed_by", observed_by),
        )
        return Receipt(id=delivery, positions=tuple(self.repo.save(person)))

    def set_name_hidden(self, actor: Actor, person_id: str, hidden: bool) -> Receipt:
        now = self.clock.now()
        person = self.person(person_id)
        if person.name_hidden == hidden:
            return Receipt(id=str(person.id))
        person.record(NamePublicationChanged, actor, now, hidden=hidden)
        return self._save(str(person.id), person)

    def set_public_listing(self, actor: Actor, person_id: str, listed: bool) -> Receipt:
        """Opt the holder in to (or out of) the public register."""
        now = self.clock.now()
        person = self.person(person_id)
        if person.erased and listed:
            raise Conflict("the person's data is erased; they cannot be listed")
        if person.listed == listed:
            return Receipt(id=str(person.id))
        person.record(PublicListingChanged, actor, now, listed=listed)
        return self._save(str(person.id), person)

    def erase_person(self, actor: Actor, person_id: str, reason: str) -> Receipt:
        """Erasure: the key is destroyed; the history stays verifiable. `reason` is a code of
        ERASURE_REASONS, never free text (which would outlive the erasure in the log)."""
        now = self.clock.now()
        if reason not in ERASURE_REASONS:
            raise InvalidCommand(
                "reason",
                f"{reason!r} is not an erasure reason code: one of {', '.join(ERASURE_REASONS)}",
            )
        person = self.person(person_id)
        if person.erased:
            raise Conflict("the person's data is already erased")
        person.record(PersonalDataErased, actor, now, reason=reason)
        receipt = self._save(str(person.id), person)
        self.personal_data.destroy(str(person.id))
        self.repo.forget_cached()
        return receipt

    # -- enrolment and attendance ------------------------------------------------------------

    def enrol(
        self, actor: Actor, programme_id: str, person_id: str, consortium: str | None = None
    ) -> Receipt:
        now = self.clock.now()
        programme = self.programme(programme_id)
        person = self.person(person_id)
        ident = enrolment_id(programme.id, person.id)
        if self.repo.exists(ident):
            raise Conflict("the person is already enrolled in this programme")
        enrolment = Enrolment.start(
            Enrolled,
            ident,
            actor,
            now,
            programme_id=str(programme.id),
            person_id=str(person.id),
            consortium=None if consortium is None else _text("consortium", consortium),
        )
        return self._save(str(ident), enrolment)

    def withdraw(
        self, actor: Actor, programme_id: str, person_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        enrolment = self.enrolment(programme_id, person_id)
        if not enrolment.active:
            raise Conflict("the enrolment is already withdrawn")
        enrolment.record(
            EnrolmentWithdrawn,
            actor,
            now,
            day,
            reason=_about(enrolment.person_id, "reason", reason),
        )
        return self._save(str(enrolment.id), enrolment)

    def record_attendance(
        self,
        actor: Actor,
        programme_id: str,
        person_id: str,
        week: int,
        attended: bool = True,
    ) -> Receipt:
        now = self.clock.now()
        programme = self.programme(programme_id)
        scheduled = programme.weeks.get(week)
        if scheduled is None:
            raise InvalidCommand("week", f"week {week} is not scheduled in this programme")
        if scheduled.starts_on > now.date():
            raise InvalidCommand("week", f"week {week} has not started yet")
        enrolment = self.enrolment(programme_id, person_id)
        if not enrolment.active:
            raise Conflict("the enrolment is withdrawn")
        previous = enrolment.attendance.get(week)
        if previous is not None and previous.attended == attended:
            return Receipt(id=str(enrolment.id))
        enrolment.record(
            AttendanceRecorded,
            actor,
            now,
            scheduled.starts_on,
            week=week,
            attended=attended,
            correction=previous is not None,
        )
        return self._save(str(enrolment.id), enrolment)

    # -- field projects --------------------------------------------------------------------

    def register_project(
        self,
        actor: Actor,
        programme_id: str,
        cluster_initiative: str,
        sector: str,
        region: str,
        country: str,
    ) -> Receipt:
        now = self.clock.now()
        programme = self.programme(programme_id)
        project = FieldProject.start(
            ProjectRegistered,
            uuid.uuid4(),
            actor,
            now,
            programme_id=str(programme.id),
            cluster_initiative=_text("cluster_initiative", cluster_initiative),
            sector=_text("sector", sector),
            region=_text("region", region),
            country=_text("country", country),
        )
        return self._save(str(project.id), project)

    def _organisations(self, person_ids: Sequence[str]) -> dict[str, str]:
        return {p: self.person(p).organisation for p in person_ids}

    def assign_member(self, actor: Actor, project_id: str, person_id: str) -> Receipt:
        now = self.clock.now()
        project = self.project(project_id)
        person = self.person(person_id)
        member = str(person.id)
        try:
            enrolment = self.enrolment(project.programme_id, member)
        except NotFound:
            raise InvalidCommand(
                "person_id", "the person is not enrolled in the project's programme"
            ) from None
        if not enrolment.active:
            raise Conflict("the enrolment is withdrawn")
        if enrolment.project_id is not None:
            raise Conflict(f"the person is already in field project {enrolment.project_id}")
        involved = [*project.members, member] + ([project.tutor_id] if project.tutor_id else [])
        policy = self.policy_for(project.programme_id)
        rules.r1_team_member(
            project.members, member, project.tutor_id, self._organisations(involved), policy
        )
        project.record(TeamMemberAssigned, actor, now, person_id=member)
        enrolment.record(JoinedProject, actor, now, project_id=str(project.id))
        return self._save(str(project.id), project, enrolment)

    def assign_tutor(self, actor: Actor, project_id: str, person_id: str) -> Receipt:
        now = self.clock.now()
        project = self.project(project_id)
        tutor = str(self.person(person_id).id)
        organisations = self._organisations([*project.members, tutor])
        rules.r1_tutor(project.members, tutor, organisations, project.tutor_id is not None)
        project.record(TutorAssigned, actor, now, person_id=tutor)
        return self._save(str(project.id), project)

    def sign_off(
        self, actor: Actor, project_id: str, note: str = "", on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        project = self.project(project_id)
        if project.status == "signed_off":
            raise Conflict("the project is already signed off")
        rules.r3_sign_off_actor(actor, project.tutor_id)
        rules.r1_team_complete(
            len(project.members),
            project.tutor_id is not None,
            self.policy_for(project.programme_id),
        )
        note = _text("note", note, optional=True)
        project.record(ProjectSignedOff, actor, now, day, note=_tutors_note(project, note))
        return self._save(str(project.id), project)

    def return_project(
        self, actor: Actor, project_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        project = self.project(project_id)
        rules.r3_sign_off_actor(actor, project.tutor_id)
        reason = _text("reason", reason)
        project.record(ProjectReturned, actor, now, day, reason=_tutors_note(project, reason))
        return self._save(str(project.id), project)

    # -- impartiality ----------------------------------------------------------------------

    def _case(
        self, person_id: str, project: FieldProject | None, evidence: Iterable[str] = ()
    ) -> rules.Case:
        """Who has a part in a decision about `person_id` (R10, R11)."""
        person = self.person(person_id)
        return rules.Case(
            concerns=person_id,
            tutors=frozenset(
                [project.tutor_id] if project is not None and project.tutor_id else []
            ),
            teachers=frozenset(d.observed_by for d in person.deliveries if d.observed_by),
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
        person = self.person(qualification.holder_id)
        policy = self.policy_for(qualification.programme_id)
        courses = person.courses_between(qualification.awarded_on, day)
        rules.r10_decision(
            actor, self._certificate_case(qualification, {d.recorded_by for d in courses})
        )
        rules.r5_licence(
            has_qualification=qualification.awarded_on <= day,
            courses_delivered=len(courses),
            regions=_names("regions", regions),
            languages=_names("languages", languages),
            material_version=material_version,
            published_versions=self.published_versions(),
            policy=policy,
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
            regions=_names("regions", regions),
            languages=_names("languages", languages),
            material_version=material_version,
            valid_from=day,
            valid_until=rules.r5_valid_until(day, policy),
        )
        return self._save(certificate_id, licence)

    def renew_licence(self, actor: Actor, certificate_id: str, on: date | None = None) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(certificate_id)
        person = self.person(licence.holder_id)
        courses = person.courses_between(licence.term_starts_on, day)
        rules.r10_decision(actor, self._certificate_case(licence, {d.recorded_by for d in courses}))
        new_until = rules.r6_renewal(
            day,
            licence.valid_until,
            len(courses),
            licence.revoked_on is not None,
            self.policy_for(licence.programme_id),
        )
        licence.record(
            LicenceRenewed,
            actor,
            now,
            day,
            previous_until=licence.valid_until,
            valid_until=new_until,
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
        new_regions, new_languages = _names("regions", regions), _names("languages", languages)
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
            reason=_about(licence.holder_id, "reason", reason),
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

    def _instructor_term(self, actor: Actor, licence: Licence, day: date) -> date:
        """R10 and R9 for an instructor decision on the holder of `licence`; the new end date."""
        person = self.person(licence.holder_id)
        rules.r10_decision(
            actor, self._certificate_case(licence, {d.recorded_by for d in person.deliveries})
        )
        return rules.r9_instructor(
            licence.status_on(day) == "valid",
            licence.valid_from,
            day,
            person.full_programmes,
            self.policy_for(licence.programme_id),
        )

    def certify_instructor(self, actor: Actor, licence_id: str, on: date | None = None) -> Receipt:
        now, day = self._day(on)
        licence = self.licence(licence_id)
        valid_until = self._instructor_term(actor, licence, day)
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
        )
        return self._save(certificate_id, cert)

    def renew_instructor(
        self, actor: Actor, certificate_id: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        cert = self.instructor(certificate_id)
        rules.r8_not_revoked(cert.revoked_on is not None, "renewed")
        valid_until = self._instructor_term(actor, self.licence(cert.licence_id), day)
        cert.record(InstructorRenewed, actor, now, day, valid_until=valid_until)
        return self._save(cert.certificate_id, cert)

    def revoke_instructor(
        self, actor: Actor, certificate_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        cert = self.instructor(certificate_id)
        rules.r10_decision(actor, self._certificate_case(cert))
        rules.r8_revocation(reason, cert.revoked_on is not None)
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
            grounds=_about(cert.holder_id, "grounds", grounds),
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
            reasoning=_about(appeal.appellant_id, "reasoning", reasoning),
        )
        return self._save(str(appeal.id), appeal)


def committee(member: str) -> Actor:
    return Actor(member, Role.COMMITTEE)
