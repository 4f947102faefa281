"""Programmes (cohorts) with their in-class weeks, and the catalogue of material versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ledger.domain.base import (
    LedgerAggregate,
    LedgerCreated,
    LedgerEvent,
    aggregate_type,
    derived_id,
    event_type,
)
from ledger.domain.policy import Policy
from ledger.domain.values import Value


@dataclass(frozen=True)
class Week(Value):
    number: int
    starts_on: date
    ends_on: date
    place: str
    modules: tuple[str, ...]


@event_type
class ProgrammeOpened(LedgerCreated):
    TOPIC = "programme.opened"
    title: str
    starts_on: date
    ends_on: date
    material_version: str
    policy: dict[str, int]

    def apply(self, programme: Programme) -> None:
        programme.title = self.title
        programme.starts_on = self.starts_on
        programme.ends_on = self.ends_on
        programme.material_version = self.material_version
        programme.policy = Policy.from_dict(self.policy)
        programme.weeks = {}


@event_type
class WeekScheduled(LedgerEvent):
    TOPIC = "programme.week_scheduled"
    number: int
    starts_on: date
    ends_on: date
    place: str
    modules: tuple[str, ...]

    def apply(self, programme: Programme) -> None:
        programme.weeks[self.number] = Week(
            self.number, self.starts_on, self.ends_on, self.place, tuple(self.modules)
        )


@aggregate_type(ProgrammeOpened)
class Programme(LedgerAggregate):
    TYPE_NAME = "Programme"
    if TYPE_CHECKING:
        title: str
        starts_on: date
        ends_on: date
        material_version: str
        policy: Policy
        weeks: dict[int, Week]


@event_type
class CatalogueOpened(LedgerCreated):
    TOPIC = "material.catalogue_opened"

    def apply(self, catalogue: Catalogue) -> None:
        catalogue.versions = {}


@event_type
class MaterialVersionPublished(LedgerEvent):
    TOPIC = "material.version_published"
    version: str
    title: str

    def apply(self, catalogue: Catalogue) -> None:
        catalogue.versions[self.version] = self.title


@aggregate_type(CatalogueOpened)
class Catalogue(LedgerAggregate):
    """The one catalogue of ECEI training material editions."""

    TYPE_NAME = "Catalogue"
    if TYPE_CHECKING:
        versions: dict[str, str]


CATALOGUE_ID = derived_id("catalogue")
