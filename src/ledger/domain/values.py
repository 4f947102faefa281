"""Immutable values held by aggregates."""

from __future__ import annotations

from typing import Any, Self


class Value:
    """A frozen value: copying an aggregate (the repository copies cached ones for each command)
    shares it instead of copying it, which keeps commands on long streams fast."""

    __slots__ = ()

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


class PersonalText(str):
    """Free text about a person, recorded on a stream that is not theirs (a revocation reason,
    appeal grounds): a `str` that also names the person whose data key encrypts it, so that
    erasing that person shreds it. Read back, the text is a plain `str`."""

    __slots__ = ("person",)
    person: str

    def __new__(cls, text: str, person: str) -> Self:
        made = super().__new__(cls, text)
        made.person = person
        return made

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        return (str(self), self.person)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


NOT_AVAILABLE_HERE = "[not available here]"
"""What a personal field reads as when this ledger holds no data key for its person: a ledger
restored from an auditor bundle (which never carries data keys) verifies every record, but
cannot decrypt personal data until the data-key backup is restored. Unlike `[erased]`, the
data still exists elsewhere."""
