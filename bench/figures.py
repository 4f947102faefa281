"""One measured figure, its baseline from the same run, the ratio and the goal."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    backend: str
    value: float
    unit: str
    baseline: float | None
    ratio: float | None
    goal: str
    met: bool | None
    detail: str = ""
    # The goal as a ratio to the baseline, and which way it points ("at least" or "at most");
    # None for an informative figure or one without a baseline.
    goal_ratio: float | None = None
    goal_direction: str | None = None


def ratio_figure(
    name: str,
    backend: str,
    value: float,
    unit: str,
    baseline: float,
    goal: float | None,
    goal_text: str,
    detail: str = "",
    *,
    at_most: bool = False,
    limit: float | None = None,
) -> Figure:
    """A figure met when value / baseline is at least `goal` (at most, for times and memory);
    with `limit`, the value must also stay under it (a ceiling in the figure's own unit)."""
    ratio = value / baseline if baseline else 0.0
    met = None if goal is None else bool(baseline) and (ratio <= goal if at_most else ratio >= goal)
    if met is not None and limit is not None:
        met = met and value < limit
    direction = None if goal is None else ("at most" if at_most else "at least")
    return Figure(
        name, backend, value, unit, baseline, ratio, goal_text, met, detail, goal, direction
    )


def timed(work: Callable[[], int]) -> float:
    """Units of work per second."""
    started = time.perf_counter()
    done = work()
    return done / (time.perf_counter() - started)


def best_rates(works: Mapping[str, Callable[[], int]], rounds: int) -> dict[str, float]:
    """Each work's best rate of `rounds` runs, the works taking turns: on a shared machine a
    burst of other work then lands on one run, not on one side of a ratio."""
    rates: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(rounds):
        for name, work in works.items():
            rates[name].append(timed(work))
    return {name: max(found) for name, found in rates.items()}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


# The child's own peak RSS, read at its end. Not `ru_maxrss`: on Linux that carries over the
# high-water mark of the process it was forked from, which here is the benchmark itself.
PEAK_RSS_KB = (
    "next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))"
)
