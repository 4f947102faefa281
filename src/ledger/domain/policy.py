"""Policy parameters, set per programme; the defaults are DOMAIN.md's proposals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from ledger.domain.errors import InvalidCommand
from ledger.domain.values import Value


@dataclass(frozen=True)
class Policy(Value):
    team_min: int = 1  # R1
    team_max: int = 3  # R1
    weeks_total: int = 6  # R2
    weeks_required: int = 5  # R2
    licence_courses_required: int = 1  # R5
    licence_months: int = 24  # R5
    renewal_opens_days_before: int = 90  # R6
    renewal_closes_months_after: int = 12  # R6
    renewal_courses_required: int = 2  # R6
    renewal_months: int = 24  # R6
    suspension_max_months: int = 6  # R7
    instructor_licence_months: int = 12  # R9
    instructor_programmes_required: int = 1  # R9
    instructor_months: int = 36  # R9
    appeal_days: int = 30  # R11
    tutors_record_attendance: int = 0  # 1: a programme's tutors may record its attendance

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, int]) -> Policy:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidCommand("policy", f"unknown parameters {unknown}")
        for name, value in data.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidCommand(f"policy.{name}", "must be a non-negative integer")
        policy = cls(**data)
        if policy.team_min < 1 or policy.team_min > policy.team_max:
            raise InvalidCommand("policy.team_min", "must be at least 1 and at most team_max")
        if policy.tutors_record_attendance not in (0, 1):
            raise InvalidCommand("policy.tutors_record_attendance", "must be 0 or 1")
        if policy.weeks_required > policy.weeks_total:
            raise InvalidCommand("policy.weeks_required", "cannot exceed weeks_total")
        return policy
