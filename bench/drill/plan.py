"""How long and how hard each scenario runs: the short drill (CI) and the full one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    kill_cycles: int
    """Processes killed with SIGKILL, one after another (on PostgreSQL: each API process, then
    the worker, in turn)."""
    outages: tuple[float, ...]
    """Seconds without PostgreSQL, one entry per outage; 0 is a plain restart."""
    disk_full_seconds: float
    one_stream_seconds: float
    writers: int = 16
    one_stream_writers: int = 64
    slow_clients: int = 8
    slow_byte_every: float = 2.0
    """A slow client sends one header byte this often (seconds)."""
    settle_seconds: float = 1.5
    """Load before the first fault and after the last one."""


SHORT = Plan("short", kill_cycles=3, outages=(2.0,), disk_full_seconds=3, one_stream_seconds=8)
FULL = Plan(
    "full",
    kill_cycles=12,
    outages=(0.0, 10.0, 0.0, 10.0),
    disk_full_seconds=10,
    one_stream_seconds=60,
    slow_clients=16,
    settle_seconds=5.0,
)
