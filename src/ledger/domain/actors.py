"""Who records an event: an actor id and the role they acted in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    REGISTRAR = "registrar"
    TUTOR = "tutor"
    COMMITTEE = "committee"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Actor:
    """`id` is a person id for tutors and committee members, otherwise a staff or system name."""

    id: str
    role: Role

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 200:
            raise ValueError("actor id must be 1 to 200 characters")
