"""An error and the errors behind it (`__cause__`, else `__context__`), outermost first: the
driver's error is usually wrapped by the event library's, and that by ours."""

from __future__ import annotations

from collections.abc import Iterator


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
