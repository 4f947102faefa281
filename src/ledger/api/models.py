"""Request and response bodies: every route's schema is in the OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=50)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dated(Body):
    on: date | None = Field(None, description="date of effect (default today; never future)")


# -- commands ------------------------------------------------------------------------------


class ProgrammeCreate(Body):
    title: Text
    starts_on: date
    ends_on: date
    material_version: Name
    policy: dict[str, Annotated[int, Field(ge=0, le=10_000)]] | None = None


class WeekCreate(Body):
    number: Annotated[int, Field(ge=1, le=100)]
    starts_on: date
    ends_on: date
    place: Name
    modules: Names


class MaterialCreate(Dated):
    version: Name
    title: Text


class PersonCreate(Body):
    name: Name
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
    organisation: Name
    region: Name
    country: Name


class CourseCreate(Body):
    delivered_on: date
    region: Name
    participants: Annotated[int, Field(ge=1, le=10_000)]
    full_programme: bool = False
    observed_by: Name | None = None


class NameVisibility(Body):
    hidden: bool


class PublicListing(Body):
    listed: bool


class Reason(Dated):
    reason: Text


class EnrolmentCreate(Body):
    person_id: Id
    consortium: Name | None = None


class AttendanceRecord(Body):
    week: Annotated[int, Field(ge=1, le=100)]
    attended: bool = True


class ProjectCreate(Body):
    programme_id: Id
    cluster_initiative: Name
    sector: Name
    region: Name
    country: Name


class PersonRef(Body):
    person_id: Id


class SignOff(Dated):
    note: Annotated[str, Field(max_length=500)] = ""


class QualificationCreate(Dated):
    programme_id: Id
    person_id: Id


class LicenceCreate(Dated):
    qualification_id: Id
    regions: Names
    languages: Names
    material_version: Name


class Suspension(Dated):
    reason: Text
    until: date


class ScopeReduction(Dated):
    regions: Names
    languages: Names
    reason: Text


class InstructorCreate(Dated):
    licence_id: Id


class AppealCreate(Dated):
    certificate_id: Id
    decision_version: Annotated[int, Field(ge=1, le=1_000_000)]
    grounds: Text


class AppealDecision(Dated):
    outcome: Literal["upheld", "rejected"]
    reasoning: Text


class Created(BaseModel):
    id: str = Field(description="the id created or changed")
    positions: list[int] = Field(description="notification ids of the events written")
    projected: bool = Field(description="whether the read models already include them")


# -- queries -------------------------------------------------------------------------------


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    field: str | None = None


class Scope(BaseModel):
    regions: list[str]
    languages: list[str]
    material_version: str


class SuspensionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    starts_on: str = Field(alias="from")
    until: str
    reason: str
    ended_on: str | None


class CertificateStatus(BaseModel):
    certificate_id: str
    kind: str
    status: Literal["valid", "expired", "suspended", "revoked", "unknown"]
    since: str | None
    until: str | None
    reason: str | None
    holder_id: str
    valid_from: str
    valid_until: str | None
    scope: Scope | None
    suspensions: list[dict[str, Any]]
    revoked_on: str | None
    evidence: dict[str, Any] | None
    events: list[list[Any]] = Field(description="[version, log position, type, effective date]")


class TrainerStatus(BaseModel):
    person_id: str
    region: str
    country: str
    erased: bool
    as_of: str
    known_at: int | None
    certificates: list[CertificateStatus]
    courses_delivered: int
    full_programmes_delivered: int
    last_course_on: str | None


class HistoryEntry(BaseModel):
    position: int | None
    stream: str
    version: int
    type: str
    recorded_at: str
    effective_on: str | None
    actor: str
    role: str


class History(BaseModel):
    person_id: str
    events: list[HistoryEntry]


class Roster(BaseModel):
    programme_id: str
    title: str
    starts_on: str
    ends_on: str
    material_version: str
    policy: dict[str, int]
    weeks: dict[str, Any]
    projects: list[dict[str, Any]]
    enrolments: list[dict[str, Any]]


class PersonOut(BaseModel):
    person_id: str
    name: str
    email: str
    organisation: str
    region: str
    country: str
    erased: bool
    name_hidden: bool
    listed: bool


class LogCheckpoint(BaseModel):
    size: int
    root: str
    note: str


class LogProof(BaseModel):
    position: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    checkpoint: LogCheckpoint


class VerifyAnswer(BaseModel):
    certificate_id: str
    kind: str | None
    status: Literal["valid", "expired", "suspended", "revoked", "unknown"]
    since: str | None
    until: str | None
    reason: str | None
    holder: str | None = Field(description="the holder's name, unless hidden or erased")
    valid_from: str | None
    valid_until: str | None
    scope: Scope | None
    as_of: str
    known_at: int | None
    evidence: list[dict[str, Any]]
    log: LogProof | None


class Entries(BaseModel):
    entries: list[dict[str, Any]]


class LeafHashes(BaseModel):
    start: int
    hashes: list[str]


class ProofOut(BaseModel):
    proof: list[str]
    index: int | None = None
    size: int | None = None
    first: int | None = Field(None, serialization_alias="from")
    second: int | None = Field(None, serialization_alias="to")


class Health(BaseModel):
    status: str
    log_size: int | None = None
    projections: dict[str, int] | None = None
