"""After a scenario: every key sent once more, every marker counted, and the sums.

- lost: acknowledged during the scenario, yet its marker is not in the stored records (counted
  before the keys are sent again, so a retry that writes it now cannot hide the loss);
- duplicated: a marker in the stored records more than once (counted after the keys are sent
  again, so a retry that writes it twice is caught);
- unresolved: a key whose answer, sent once more, is not final (no answer, 5xx, 409 "In
  progress", "Retry" or a concurrent change);
- wrong answers: a key answered other than its records say: a 2xx with another id than first
  acknowledged, a refusal for a write that is stored, a 2xx for one that is not.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.drill.load import Journal, Write, client, read_answer, send

RESEND_CONCURRENCY = 16


@dataclass
class Counts:
    sent: int = 0
    acknowledged: int = 0
    found: int = 0
    lost: int = 0
    duplicated: int = 0
    unresolved: int = 0
    wrong: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def example(self, what: str, write: Write, note: str) -> None:
        listed = self.examples.setdefault(what, [])
        if len(listed) < 5:
            listed.append(f"{write.key}: {note}")

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.unresolved or self.wrong)


async def resend_all(journal: Journal, base: str, token: str) -> None:
    """Send every key once more, with its first body, and record the answer (or none). Sent
    side by side, keys of one stream contend with each other: those answered "try again" are
    sent once more, one at a time, so what is left unresolved is stuck, not contended."""
    limit = asyncio.Semaphore(RESEND_CONCURRENCY)

    async def resend(http: httpx.AsyncClient, write: Write) -> None:
        async with limit:
            try:
                write.final = read_answer(await send(http, base, write))
            except httpx.TransportError:
                write.final = None

    async with client(token) as http:
        await asyncio.gather(*(resend(http, w) for w in journal.writes))
        for write in journal.writes:
            if write.final is None or write.final.verdict == "retry":
                await resend(http, write)


def count(journal: Journal, before: Counter[str], after: Counter[str]) -> Counts:
    counts = Counts(sent=len(journal.writes))
    for write in journal.writes:
        stored_before, stored_after = before[write.marker], after[write.marker]
        if write.acknowledged is not None:
            counts.acknowledged += 1
            if stored_before:
                counts.found += 1
            else:
                counts.lost += 1
                counts.example("lost", write, "acknowledged, not stored")
        if stored_after > 1:
            counts.duplicated += 1
            counts.example("duplicated", write, f"stored {stored_after} times")
        final = write.final
        if final is None or final.verdict == "retry":
            counts.unresolved += 1
            said = "no answer" if final is None else f"{final.status} {final.title}"
            counts.example("unresolved", write, said)
            continue
        problem = _disagreement(write, stored_after)
        if problem:
            counts.wrong += 1
            counts.example("wrong", write, problem)
    return counts


def _disagreement(write: Write, stored: int) -> str | None:
    final = write.final
    assert final is not None
    first = write.acknowledged
    if final.verdict == "acknowledged":
        if first is not None and final.id != first.id:
            return f"acknowledged as {first.id}, replayed as {final.id}"
        if not stored:
            return f"answered {final.status} but not stored"
        return None
    if first is not None:
        return f"acknowledged, then answered {final.status} {final.title}"
    if stored:
        return f"stored, yet answered {final.status} {final.title}: {final.detail[:80]}"
    return None


def answers(journal: Journal) -> dict[str, int]:
    """Every answer the writers met during the scenario, by status or error."""
    total: Counter[str] = Counter()
    for write in journal.writes:
        total.update(write.outcomes)
    return dict(sorted(total.items()))


def recovery(journal: Journal) -> list[dict[str, Any]]:
    """For each fault's end: seconds until the acknowledgement that shows recovery (None: none
    came before the scenario ended)."""
    found = []
    for event in journal.recoveries:
        seconds = journal.recovery_time(event)
        found.append(
            {"after": event.label, "seconds": None if seconds is None else round(seconds, 2)}
        )
    return found
