"""Commands about the training itself: programmes and their weeks, the material catalogue,
enrolments and attendance (one at a time or a whole week at once), field projects and their
sign-off, and the corrections of these records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from ledger.domain import corrections, rules
from ledger.domain.actors import Actor, Role
from ledger.domain.certificates import Qualification
from ledger.domain.enrolment import (
    AttendanceCorrected,
    AttendanceRecorded,
    Enrolled,
    Enrolment,
    EnrolmentWithdrawn,
    JoinedProject,
    enrolment_id,
)
from ledger.domain.errors import Conflict, InvalidCommand, NotFound, RuleViolation
from ledger.domain.policy import Policy
from ledger.domain.programme import (
    CATALOGUE_ID,
    Catalogue,
    CatalogueOpened,
    MaterialVersionPublished,
    Programme,
    ProgrammeOpened,
    Week,
    WeekScheduled,
)
from ledger.domain.project import (
    FieldProject,
    ProjectRegistered,
    ProjectReturned,
    ProjectSignedOff,
    SignOffWithdrawn,
    TeamMemberAssigned,
    TutorAssigned,
)
from ledger.service_core import ServiceCore, about, names, text, tutors_note
from ledger.service_ports import Receipt


def _as_attended(attended: bool) -> str:
    return "attended" if attended else "absent"


class TrainingCommands(ServiceCore):
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
            title=text("title", title),
            starts_on=starts_on,
            ends_on=ends_on,
            material_version=text("material_version", material_version),
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
            place=text("place", place),
            modules=names("modules", modules),
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
        version = text("version", version)
        if version in catalogue.versions:
            raise Conflict(f"material version {version} is already published")
        catalogue.record(
            MaterialVersionPublished, actor, now, day, version=version, title=text("title", title)
        )
        return self._save(version, catalogue)

    # -- enrolment -------------------------------------------------------------------------

    def enrol(
        self, actor: Actor, programme_id: str, person_id: str, consortium: str | None = None
    ) -> Receipt:
        now = self.clock.now()
        programme = self.programme(programme_id)
        person = self.person(person_id)
        self._not_a_duplicate(person)
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
            consortium=None if consortium is None else text("consortium", consortium),
        )
        return self._save(str(ident), enrolment)

    def enrol_many(
        self, actor: Actor, programme_id: str, people: Sequence[tuple[str, str | None]]
    ) -> Receipt:
        """Enrol each (person id, consortium) in one save; those already enrolled are skipped.
        If any is refused, nothing is written and `BatchRefused` lists every refusal."""
        programme = self.programme(programme_id)

        def enrol_one(service: TrainingCommands, entry: tuple[str, str | None]) -> None:
            person_id, consortium = entry
            person = service.person(person_id)
            if not service.repo.exists(enrolment_id(programme.id, person.id)):
                service.enrol(actor, str(programme.id), person_id, consortium)

        return self._all_or_nothing(
            str(programme.id), [(entry[0], entry) for entry in people], enrol_one
        )

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
            reason=about(enrolment.person_id, "reason", reason),
        )
        return self._save(str(enrolment.id), enrolment)

    # -- attendance ------------------------------------------------------------------------

    def _attendance_week(self, actor: Actor, programme_id: str, week: int) -> Week:
        """The scheduled, started week whose attendance `actor` may record (tutors only for
        their own programme, and only where its policy lets them)."""
        programme = self.programme(programme_id)
        scheduled = programme.weeks.get(week)
        if scheduled is None:
            raise InvalidCommand("week", f"week {week} is not scheduled in this programme")
        if scheduled.starts_on > self.clock.now().date():
            raise InvalidCommand("week", f"week {week} has not started yet")
        if actor.role is Role.TUTOR:
            if not programme.policy.tutors_record_attendance:
                raise RuleViolation(
                    "POLICY",
                    "tutors may not record attendance in this programme"
                    " (policy tutors_record_attendance is 0)",
                )
            if actor.id not in self._lookups().tutors_of(str(programme.id)):
                raise RuleViolation(
                    "POLICY", "tutors record attendance only for their own programme"
                )
        return scheduled

    def record_attendance(
        self,
        actor: Actor,
        programme_id: str,
        person_id: str,
        week: int,
        attended: bool = True,
    ) -> Receipt:
        """Record a week's attendance once; the same again changes nothing, and a different
        answer is refused: a mistake is set right by `correct_attendance`, with a reason."""
        now = self.clock.now()
        scheduled = self._attendance_week(actor, programme_id, week)
        enrolment = self.enrolment(programme_id, person_id)
        if not enrolment.active:
            raise Conflict("the enrolment is withdrawn")
        previous = enrolment.attendance.get(week)
        if previous is not None:
            if previous.attended == attended:
                return Receipt(id=str(enrolment.id))
            raise Conflict(
                f"week {week} is already recorded as {_as_attended(previous.attended)};"
                " to change it, record a correction with a reason"
            )
        enrolment.record(
            AttendanceRecorded,
            actor,
            now,
            scheduled.starts_on,
            week=week,
            attended=attended,
            correction=False,
        )
        return self._save(str(enrolment.id), enrolment)

    def record_week_attendance(
        self,
        actor: Actor,
        programme_id: str,
        week: int,
        entries: Sequence[tuple[str, bool]],
    ) -> Receipt:
        """A week's attendance for many people in one save, each entry its own event; entries
        already recorded the same are skipped. If any is refused, nothing is written and
        `BatchRefused` lists every refusal."""
        self._attendance_week(actor, programme_id, week)

        def record_one(service: TrainingCommands, entry: tuple[str, bool]) -> None:
            service.record_attendance(actor, programme_id, entry[0], week, entry[1])

        return self._all_or_nothing(
            str(self.programme(programme_id).id),
            [(entry[0], entry) for entry in entries],
            record_one,
        )

    def correct_attendance(
        self,
        actor: Actor,
        programme_id: str,
        person_id: str,
        week: int,
        attended: bool,
        reason: str,
    ) -> Receipt:
        """Set right a week's attendance recorded wrongly. Refused (R2) when it would make a
        week absent that an awarded Associate Trainer qualification counted."""
        now = self.clock.now()
        programme = self.programme(programme_id)
        scheduled = programme.weeks.get(week)
        if scheduled is None:
            raise InvalidCommand("week", f"week {week} is not scheduled in this programme")
        enrolment = self.enrolment(programme_id, person_id)
        previous = enrolment.attendance.get(week)
        if previous is None:
            raise Conflict(f"no attendance is recorded for week {week}; record it instead")
        checked = about(enrolment.person_id, "reason", reason)
        if previous.attended == attended:
            return Receipt(id=str(enrolment.id))
        awarded_on = None
        if enrolment.certificate_id is not None:
            qualification = self.certificate(enrolment.certificate_id)
            assert isinstance(qualification, Qualification)
            awarded_on = qualification.awarded_on
        corrections.attendance_correction(
            week,
            attended,
            enrolment.certificate_id,
            awarded_on,
            weeks_left=enrolment.weeks_attended - (1 if previous.attended else 0),
            weeks_required=programme.policy.weeks_required,
        )
        enrolment.record(
            AttendanceCorrected,
            actor,
            now,
            scheduled.starts_on,
            week=week,
            attended=attended,
            reason=checked,
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
            cluster_initiative=text("cluster_initiative", cluster_initiative),
            sector=text("sector", sector),
            region=text("region", region),
            country=text("country", country),
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
        person = self.person(person_id)
        self._not_a_duplicate(person)
        tutor = str(person.id)
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
        note = text("note", note, optional=True)
        project.record(ProjectSignedOff, actor, now, day, note=tutors_note(project, note))
        return self._save(str(project.id), project)

    def return_project(
        self, actor: Actor, project_id: str, reason: str, on: date | None = None
    ) -> Receipt:
        now, day = self._day(on)
        project = self.project(project_id)
        rules.r3_sign_off_actor(actor, project.tutor_id)
        reason = text("reason", reason)
        if project.status == "signed_off":
            self._sign_off_not_relied_on(project)
        project.record(ProjectReturned, actor, now, day, reason=tutors_note(project, reason))
        return self._save(str(project.id), project)

    def _sign_off_not_relied_on(self, project: FieldProject) -> None:
        """R3: a sign-off a team member's Associate Trainer qualification relied on stays
        (neither withdrawn nor undone by a return for rework)."""
        for member in project.members:
            certificate_id = self.enrolment(project.programme_id, member).certificate_id
            if certificate_id is not None:
                qualification = self.certificate(certificate_id)
                assert isinstance(qualification, Qualification)
                corrections.sign_off_withdrawal(
                    project.signed_off_on, certificate_id, qualification.awarded_on
                )

    def withdraw_sign_off(self, actor: Actor, project_id: str, reason: str) -> Receipt:
        """Withdraw a sign-off given by mistake: the project is open again. Refused (R3) once
        a team member's Associate Trainer qualification relied on it."""
        now = self.clock.now()
        project = self.project(project_id)
        corrections.sign_off_withdrawer(actor, project.tutor_id)
        if project.status != "signed_off":
            raise Conflict(
                f"the project is {project.status.replace('_', ' ')}: there is no sign-off to"
                " withdraw"
            )
        reason = text("reason", reason)
        self._sign_off_not_relied_on(project)
        project.record(SignOffWithdrawn, actor, now, reason=tutors_note(project, reason))
        return self._save(str(project.id), project)
