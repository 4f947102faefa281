"""Request and response bodies: every route's schema is in the OpenAPI document.

Every request body carries a working example. The ids in the examples are fixed placeholders
(`EXAMPLE_IDS`): put the ids of your own records in their place (the tests of the examples do).
All names in the examples are fictitious.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.domain.person import ERASURE_REASONS

Text = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Id = Annotated[str, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=50)]


# The placeholder ids of the examples, by what each stands for (path parameters have none).
EXAMPLE_IDS = {
    "person": "00000000-0000-4000-8000-0000000000a1",
    "kept_person": "00000000-0000-4000-8000-0000000000a2",
    "programme": "00000000-0000-4000-8000-0000000000b1",
    "qualification": "AT-0000-0000-001Y",
    "licence": "LT-0000-0000-001Y",
}
PERSON, KEPT, PROGRAMME = (
    EXAMPLE_IDS["person"],
    EXAMPLE_IDS["kept_person"],
    EXAMPLE_IDS["programme"],
)


def example(**values: Any) -> ConfigDict:
    """A body model's configuration with one example (unknown members refused)."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dated(Body):
    model_config = example(on="2025-03-14")
    on: date | None = Field(None, description="date of effect (default today; never future)")


# -- commands ------------------------------------------------------------------------------


class ProgrammeCreate(Body):
    model_config = example(
        title="Train the trainers, 4th programme",
        starts_on="2025-01-13",
        ends_on="2025-07-04",
        material_version="2024.1",
        policy={"weeks_required": 5, "tutors_record_attendance": 1},
    )
    title: Text
    starts_on: date
    ends_on: date
    material_version: Name
    policy: dict[str, Annotated[int, Field(ge=0, le=10_000)]] | None = None


class WeekCreate(Body):
    model_config = example(
        number=1,
        starts_on="2025-01-13",
        ends_on="2025-01-17",
        place="Bilbao",
        modules=["cluster mapping", "strategy"],
    )
    number: Annotated[int, Field(ge=1, le=100)]
    starts_on: date
    ends_on: date
    place: Name
    modules: Names


class MaterialCreate(Dated):
    model_config = example(version="2024.1", title="Cluster management handbook, 2024 edition")
    version: Name
    title: Text


class PersonCreate(Body):
    model_config = example(
        name="Maria Example",
        email="maria.example@example.org",
        organisation="Cantabria Regional Agency",
        region="Cantabria",
        country="Spain",
        confirm_duplicate=False,
    )
    name: Name
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
    organisation: Name
    region: Name
    country: Name
    confirm_duplicate: bool = Field(
        False,
        description="register even though the email, or the name and organisation, match a"
        " person already registered (answered 409 possible-duplicate otherwise)",
    )


class CourseCreate(Body):
    model_config = example(
        delivered_on="2025-03-14", region="Cantabria", participants=18, full_programme=False
    )
    delivered_on: date
    region: Name
    participants: Annotated[int, Field(ge=1, le=10_000)]
    full_programme: bool = False
    observed_by: Name | None = None


class NameVisibility(Body):
    model_config = example(hidden=True)
    hidden: bool


class PublicListing(Body):
    model_config = example(listed=True)
    listed: bool


class Reason(Dated):
    model_config = example(reason="moved to another post")
    reason: Text


class Erasure(Body):
    model_config = example(reason="request")
    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="why, as a code (never free text, which would outlive the erasure):"
            f" {', '.join(ERASURE_REASONS)}",
        ),
    ]


class EnrolmentCreate(Body):
    model_config = example(person_id=PERSON, consortium="Atlantic clusters consortium")
    person_id: Id
    consortium: Name | None = None


class AttendanceRecord(Body):
    model_config = example(week=1, attended=True)
    week: Annotated[int, Field(ge=1, le=100)]
    attended: bool = True


class EnrolmentBatch(Body):
    model_config = example(
        people=[
            {"person_id": PERSON, "consortium": None},
            {"person_id": KEPT, "consortium": "Atlantic clusters consortium"},
        ]
    )
    people: Annotated[list[EnrolmentCreate], Field(min_length=1, max_length=1000)]


class AttendanceEntry(Body):
    person_id: Id
    attended: bool = True


class WeekAttendance(Body):
    model_config = example(
        entries=[{"person_id": PERSON, "attended": True}, {"person_id": KEPT, "attended": False}]
    )
    entries: Annotated[list[AttendanceEntry], Field(min_length=1, max_length=1000)]


class Correction(Body):
    """Why a record is corrected: kept encrypted under the person it concerns."""

    model_config = example(reason="recorded for the wrong person")
    reason: Text


class AttendanceCorrection(Body):
    model_config = example(attended=False, reason="signed in but left on the first morning")
    attended: bool
    reason: Text


class DuplicateMark(Body):
    model_config = example(person_id=KEPT, reason="registered twice, once with a private email")
    person_id: Id = Field(description="the person kept: the duplicate's records read as theirs")
    reason: Text


class ProjectCreate(Body):
    model_config = example(
        programme_id=PROGRAMME,
        cluster_initiative="Valley Food Cluster",
        sector="food processing",
        region="Cantabria",
        country="Spain",
    )
    programme_id: Id
    cluster_initiative: Name
    sector: Name
    region: Name
    country: Name


class PersonRef(Body):
    model_config = example(person_id=PERSON)
    person_id: Id


class SignOff(Dated):
    model_config = example(note="strategy report accepted")
    note: Annotated[str, Field(max_length=500)] = ""


class QualificationCreate(Dated):
    model_config = example(programme_id=PROGRAMME, person_id=PERSON)
    programme_id: Id
    person_id: Id


class LicenceCreate(Dated):
    model_config = example(
        qualification_id=EXAMPLE_IDS["qualification"],
        regions=["Cantabria"],
        languages=["es", "en"],
        material_version="2024.1",
    )
    qualification_id: Id
    regions: Names
    languages: Names
    material_version: Name


class Suspension(Dated):
    model_config = example(reason="complaint under review", on="2025-03-14", until="2025-06-30")
    reason: Text
    until: date


class ScopeReduction(Dated):
    model_config = example(
        regions=["Cantabria"], languages=["es"], reason="language withdrawn", on="2025-03-14"
    )
    regions: Names
    languages: Names
    reason: Text


class InstructorCreate(Dated):
    model_config = example(licence_id=EXAMPLE_IDS["licence"], on="2025-03-14")
    licence_id: Id


class AppealCreate(Dated):
    model_config = example(
        certificate_id=EXAMPLE_IDS["licence"],
        decision_version=1,
        grounds="the courses of 2024 were not counted",
        on="2025-03-20",
    )
    certificate_id: Id
    decision_version: Annotated[int, Field(ge=1, le=1_000_000)]
    grounds: Text


class AppealDecision(Dated):
    model_config = example(outcome="rejected", reasoning="the courses were counted")
    outcome: Literal["upheld", "rejected"]
    reasoning: Text


class Created(BaseModel):
    id: str = Field(description="the id created or changed")
    positions: list[int] = Field(
        description="log positions of the events written, counted from 0 as in /log and /verify"
    )
    projected: bool = Field(description="whether the read models already include them")


# -- queries -------------------------------------------------------------------------------


class ProblemItem(BaseModel):
    item: str = Field(description="the item refused: a person id")
    rule: str | None
    field: str | None
    detail: str


class PersonCard(BaseModel):
    """A person as staff see them: their data decrypted, where they belong."""

    person_id: str
    name: str
    email: str
    organisation: str
    region: str
    country: str


class Duplicate(PersonCard):
    """A person already registered whom a new registration may be."""


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    field: str | None = None
    errors: list[ProblemItem] | None = Field(None, description="every item a batch refused")
    duplicates: list[Duplicate] | None = Field(
        None, description="the people a registration may duplicate"
    )


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


class PersonOut(PersonCard):
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
    holder_name_state: Literal["shown", "withheld", "not-available-here"] | None = Field(
        None,
        description="why `holder` is null: `withheld` (hidden or erased, not told apart) or"
        " `not-available-here` (a ledger restored without the holder's data key)",
    )
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
