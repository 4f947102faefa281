"""The benchmark's goals: each figure is met or missed from its ratio to the baseline measured in
the same run, in the direction its goal points, and under its ceiling when it has one."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from bench.figures import best_rates, ratio_figure
from bench.history import MEMORY_GOAL, MEMORY_LIMIT_MB, memory_figure
from bench.report import markdown


def test_a_throughput_goal_is_met_at_or_above_its_ratio() -> None:
    met = ratio_figure("f", "sqlite", 60.0, "req/s", 100.0, 0.6, ">= 0.6x trivial")
    missed = ratio_figure("f", "sqlite", 59.0, "req/s", 100.0, 0.6, ">= 0.6x trivial")
    assert (met.ratio, met.met, met.goal_ratio, met.goal_direction) == (0.6, True, 0.6, "at least")
    assert missed.met is False


def test_a_latency_goal_is_met_at_or_below_its_ratio() -> None:
    met = ratio_figure("p99", "postgres", 150.0, "ms", 100.0, 1.5, "<= 1.5x", at_most=True)
    missed = ratio_figure("p99", "postgres", 151.0, "ms", 100.0, 1.5, "<= 1.5x", at_most=True)
    assert (met.met, met.goal_direction) == (True, "at most")
    assert missed.met is False


def test_a_memory_figure_needs_both_a_flat_ratio_and_the_ceiling() -> None:
    flat = memory_figure("rss", "postgres", 120.0, 115.0)
    grown = memory_figure("rss", "postgres", 140.0, 115.0)
    flat_but_high = memory_figure("rss", "postgres", MEMORY_LIMIT_MB + 5, MEMORY_LIMIT_MB)
    assert flat.met is True
    assert flat.goal_ratio == MEMORY_GOAL
    assert grown.met is False
    assert flat_but_high.ratio is not None
    assert flat_but_high.ratio < MEMORY_GOAL
    assert flat_but_high.met is False


def test_a_missing_baseline_never_meets_a_goal() -> None:
    assert ratio_figure("p99", "sqlite", 1.0, "ms", 0.0, 1.5, "<= 1.5x", at_most=True).met is False
    assert ratio_figure("rate", "sqlite", 1.0, "/s", 0.0, 0.5, ">= 0.5x").met is False


def test_an_informative_figure_has_no_verdict() -> None:
    figure = ratio_figure("f", "bundle", 1.0, "/s", 2.0, None, "informative")
    assert (figure.met, figure.goal_ratio, figure.goal_direction) == (None, None, None)


def test_the_results_file_and_its_table_say_the_goal_as_a_ratio() -> None:
    figure = ratio_figure("p99", "sqlite", 200.0, "ms", 100.0, 1.5, "<= 1.5x trivial", at_most=True)
    saved = json.loads(json.dumps(asdict(figure)))
    assert (saved["goal_ratio"], saved["goal_direction"], saved["met"]) == (1.5, "at most", False)
    machine = {
        "cpus": 2,
        "cpu_model": "m",
        "memory_mb": 1024,
        "platform": "p",
        "python": "3.11",
        "postgresql": "PostgreSQL 15",
        "sqlite": "3.40",
        "load_generator": "wrk",
    }
    table = markdown({"machine": machine, "seconds": 60, "figures": [saved]})
    assert "| p99 | sqlite | 200.0 ms | 100.0 | 2.00 | <= 1.5x trivial | **missed** |" in table


def test_best_rates_take_turns_and_keep_each_sides_best_run() -> None:
    order: list[str] = []
    slow = iter([0.02, 0.0, 0.02])  # two runs of `a` land on a stall

    def a() -> int:
        order.append("a")
        time.sleep(next(slow))
        return 100

    def b() -> int:
        order.append("b")
        return 100

    best = best_rates({"a": a, "b": b}, 3)
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert best["a"] > 100 / 0.01  # the run without a stall counts, not the first or the median
