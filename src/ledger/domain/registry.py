"""Imports every aggregate module so that all event types are registered."""

from __future__ import annotations

from ledger.domain import (
    appeal,
    certificates,
    enrolment,
    key_history,
    person,
    programme,
    project,
)
from ledger.domain.base import AGGREGATE_TYPES, EVENT_TYPES

__all__ = [
    "AGGREGATE_TYPES",
    "EVENT_TYPES",
    "appeal",
    "certificates",
    "enrolment",
    "key_history",
    "person",
    "programme",
    "project",
]
