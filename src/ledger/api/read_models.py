"""Response bodies of the lists, the roster, the history and the reports (the read side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ledger.api.models import PersonCard

CertificateState = Literal["valid", "expired", "suspended", "revoked", "unknown"]


class PageOf(BaseModel):
    total: int = Field(description="how many items match the filters, over every page")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


# -- lists -------------------------------------------------------------------------------------


class PersonItem(PersonCard):
    erased: bool
    merged: list[str] = Field(description="people marked as duplicates of this person")


class PeoplePage(PageOf):
    items: list[PersonItem]


class ProgrammeItem(BaseModel):
    programme_id: str
    title: str
    starts_on: str
    ends_on: str
    material_version: str
    policy: dict[str, int]
    weeks_scheduled: int
    enrolments: int
    active_enrolments: int
    projects: int


class ProgrammePage(PageOf):
    items: list[ProgrammeItem]


class FieldProject(BaseModel):
    project_id: str
    cluster_initiative: str
    status: Literal["open", "signed_off", "returned_for_rework"]
    tutor: str | None
    members: list[str]
    signed_off_on: str | None
    returned_on: str | None
    withdrawn_on: str | None = Field(description="when a sign-off was last withdrawn")


class ProjectItem(FieldProject):
    programme_id: str
    sector: str
    region: str
    country: str


class ProjectPage(PageOf):
    items: list[ProjectItem]


class EnrolmentItem(BaseModel):
    enrolment_id: str
    programme_id: str
    person_id: str
    consortium: str | None
    active: bool
    weeks_attended: int
    attendance: dict[str, bool]
    corrections: int = Field(description="attendance entries corrected")
    project_id: str | None
    certificate_id: str | None


class EnrolmentPage(PageOf):
    items: list[EnrolmentItem]


class CertificateItem(BaseModel):
    certificate_id: str
    kind: str
    status: CertificateState
    since: str | None
    until: str | None
    holder_id: str = Field(description="the holder, as the kept person when merged")
    recorded_holder_id: str = Field(description="the person the certificate was issued to")
    programme_id: str | None
    issued_on: str
    valid_from: str
    valid_until: str | None
    revoked_on: str | None
    region: str | None
    country: str | None


class CertificatePage(PageOf):
    items: list[CertificateItem]


# -- roster ------------------------------------------------------------------------------------


class RuleStanding(BaseModel):
    met: bool
    detail: str = Field(examples=["attended 4 of 6 weeks, 5 required"])


class Award(BaseModel):
    certificate_id: str
    on: str | None


class Participant(BaseModel):
    enrolment_id: str
    person_id: str
    name: str | None = Field(None, description="for staff only")
    consortium: str | None
    active: bool
    attendance: dict[str, bool]
    weeks_attended: int
    weeks_required: int
    weeks_total: int
    corrections: int
    project: FieldProject | None
    awarded: Award | None
    eligible: bool = Field(description="every rule R1 to R4 met (R4 is met once awarded)")
    missing: list[str] = Field(description="what is missing, one sentence per unmet condition")
    rules: dict[str, RuleStanding]


class RosterOut(BaseModel):
    programme_id: str
    title: str
    starts_on: str
    ends_on: str
    material_version: str
    policy: dict[str, int]
    weeks: dict[str, Any]
    as_of: str | None
    projects: list[FieldProject]
    participants: list[Participant]


# -- history -----------------------------------------------------------------------------------


class HistoryRecord(BaseModel):
    position: int | None = Field(description="log position (from 0); null: not yet in the log")
    stream: str
    version: int
    type: str
    subject: Literal["person", "enrolment", "project", "certificate"]
    person_id: str = Field(description="whose stream: the person, or the one it concerns")
    recorded_at: str
    effective_on: str | None
    actor: str
    role: str
    details: dict[str, Any] = Field(description="the record's members that are not personal")
    reason: str | None = Field(None, description="a correction's reason: for staff only")


class TrainerHistory(BaseModel):
    person_id: str
    duplicate_of: str | None
    merged: list[str]
    events: list[HistoryRecord]


# -- reports -----------------------------------------------------------------------------------


class CountGroup(BaseModel):
    value: str
    title: str | None = None
    associate_trainer: int
    licence: int
    instructor: int
    total: int


class Counts(BaseModel):
    as_of: str
    by: str
    status: str | None
    groups: list[CountGroup]
    totals: dict[str, int]


class TimelinePeriod(BaseModel):
    period: str = Field(examples=["2013-Q3"])
    starts_on: str
    ends_on: str
    valid: dict[str, int] = Field(description="certificates valid on the period's last day")
    issued: dict[str, int] = Field(description="certificates issued within the period")


class Timeline(BaseModel):
    model_config = {"populate_by_name": True}
    starts_on: str = Field(alias="from")
    ends_on: str = Field(alias="to")
    every: str
    by: str
    groups: list[str]
    periods: list[TimelinePeriod]


class KindSummary(BaseModel):
    people: int
    regions: int
    countries: int


class Summary(BaseModel):
    as_of: str
    kinds: dict[str, KindSummary]
    sentence: str = Field(examples=["31 Associate Trainers from 19 regions"])
