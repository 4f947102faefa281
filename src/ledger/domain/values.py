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
