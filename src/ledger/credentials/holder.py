"""The holder's name as public documents show it: the verification answer, the page, the
credential and the PDF all ask here, so that they agree.

A name is shown unless the holder asked to hide it or was erased (both `withheld`: the public
is not told which), or unless this ledger holds no data key for the holder (`not-available-here`:
a ledger restored from an auditor bundle, whose records verify but whose personal data is kept
only where the data-key backup is). A document never carries a stand-in for the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ledger.domain.errors import DomainError
from ledger.domain.values import NOT_AVAILABLE_HERE

NameState = Literal["shown", "withheld", "not-available-here"]
NOT_AVAILABLE: NameState = "not-available-here"


class People(Protocol):
    def person(self, person_id: str) -> Any: ...


@dataclass(frozen=True)
class Holder:
    name: str | None
    """The name to print, or None when it is not shown."""
    state: NameState

    @property
    def unavailable(self) -> bool:
        return self.state == NOT_AVAILABLE


def public_holder(people: People, person_id: str) -> Holder:
    try:
        person = people.person(person_id)
    except DomainError:
        return Holder(None, "withheld")
    if person.erased or person.name_hidden:
        return Holder(None, "withheld")
    if person.name == NOT_AVAILABLE_HERE:
        return Holder(None, NOT_AVAILABLE)
    return Holder(str(person.name), "shown")
