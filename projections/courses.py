"""A person's courses, kept in blocks: the newest fewer than `BLOCK` in the person's own row,
each earlier run of `BLOCK` in a row of its own.

A row that held every course would be read, serialised and written whole for each new course,
so a course would cost more the more a trainer has delivered. In blocks, recording a course
touches a row of at most `BLOCK` courses, and a rebuild writes about as many rows as with one
list (a block is written once, when it fills).

The person's row holds `deliveries` (the newest courses) and `blocks` (how many full blocks
there are); block n is the row `{"deliveries": [...]}` under `block_key(person, n)` in the
projection's table `course_blocks`, indexed by the person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.base import Row, View

BLOCK = 32
BLOCKS = "course_blocks"


def block_key(person: str, number: int) -> str:
    return f"{person}/{number:06d}"


def append(view: View, person: str, row: Row, course: list[Any]) -> None:
    """Add `course` to the person's courses (the caller puts `row`); a full run of `BLOCK`
    moves to a block of its own."""
    newest = row["deliveries"]
    newest.append(course)
    if len(newest) >= BLOCK:
        view.put(BLOCKS, block_key(person, row["blocks"]), {"deliveries": newest}, index=person)
        row["deliveries"] = []
        row["blocks"] += 1


def blocks(view: View, person: str, row: Row) -> list[tuple[str, Row]]:
    """The person's full blocks, oldest first, each with its key (a block never read is
    missing: it is skipped)."""
    found = []
    for number in range(row.get("blocks", 0)):
        key = block_key(person, number)
        block = view.get(BLOCKS, key)
        if block is not None:
            found.append((key, block))
    return found


def every(view: View, person: str, row: Row) -> list[list[Any]]:
    """All the person's courses, oldest first: the blocks', then the row's own."""
    found: list[list[Any]] = []
    for _, block in blocks(view, person, row):
        found += block["deliveries"]
    own: list[list[Any]] = row["deliveries"]
    return found + own


def change(view: View, person: str, row: Row, edit: Callable[[list[list[Any]]], bool]) -> None:
    """Apply `edit` (it changes a list of courses in place and tells whether it changed any)
    to each block and to the row's own courses; put the blocks it changed (the caller puts
    `row`)."""
    for key, block in blocks(view, person, row):
        if edit(block["deliveries"]):
            view.put(BLOCKS, key, block, index=person)
    edit(row["deliveries"])


def replace(view: View, person: str, row: Row, courses: list[list[Any]]) -> None:
    """Make `courses` the person's courses, in blocks from the first (the caller puts `row`).
    Only for lists at least as long as the one they replace: no block is left over."""
    full = len(courses) // BLOCK
    for number in range(full):
        block = {"deliveries": courses[number * BLOCK : (number + 1) * BLOCK]}
        view.put(BLOCKS, block_key(person, number), block, index=person)
    row["deliveries"] = courses[full * BLOCK :]
    row["blocks"] = full
