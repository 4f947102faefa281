"""Date arithmetic the policy rules speak in (months and years, clamped to month ends)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def term_end(start: date, months: int) -> date:
    """The last valid day of a term of `months` months starting on `start` (inclusive)."""
    return add_months(start, months) - timedelta(days=1)
