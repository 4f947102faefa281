"""The service layer: each command loads aggregates, checks the rules, and saves atomically.

The API and the CLI call only this layer. Every command takes the acting `Actor`; dates of
effect default to today and may be in the past (recording late), never in the future.
Mistakes are set right by corrections, each a new event with a reason, never an edit.

Commands are grouped by the records they keep: people (`service_people`), the training
(`service_training`) and the committee's decisions (`service_decisions`); `LedgerService`
offers them all. `batch()` runs many commands and writes them in one save.
"""

from __future__ import annotations

from ledger.domain.actors import Actor, Role
from ledger.service_batch import Batch
from ledger.service_core import MAX_TEXT
from ledger.service_decisions import DecisionCommands
from ledger.service_people import PeopleCommands
from ledger.service_ports import Lookups, PeopleDirectory, PersonalData, Receipt, Repository
from ledger.service_training import TrainingCommands

__all__ = [
    "MAX_TEXT",
    "Batch",
    "LedgerService",
    "Lookups",
    "PeopleDirectory",
    "PersonalData",
    "Receipt",
    "Repository",
    "committee",
]


class LedgerService(PeopleCommands, TrainingCommands, DecisionCommands):
    """Every command of the ledger, over a repository, the per-person key store and a clock;
    with a people directory (duplicate detection, search) and lookups in the read models
    (tutors of a programme, certificates of a person) where the commands need them."""


def committee(member: str) -> Actor:
    return Actor(member, Role.COMMITTEE)
