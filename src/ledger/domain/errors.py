"""Domain errors. Each says what was refused and why, in the domain's words."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A command was refused."""


class RuleViolation(DomainError):
    """A policy rule blocks the command: carries the rule id and what is missing."""

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule}: {detail}")


class InvalidCommand(DomainError):
    """A command's input is malformed: carries the field at fault."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


class NotFound(DomainError):
    """No such programme, person, project, certificate or appeal."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"no {kind} {ident}")


class Conflict(DomainError):
    """The command clashes with the current state or with a concurrent write."""


class PossibleDuplicate(Conflict):
    """A registration matches people already registered (by email, or by name and organisation):
    it needs explicit confirmation. `matches` are the person ids, best match first."""

    def __init__(self, matches: Sequence[str]) -> None:
        self.matches = tuple(matches)
        super().__init__(
            f"possibly a person already registered ({', '.join(self.matches)});"
            " confirm the registration to record a new person anyway"
        )


class BatchRefused(DomainError):
    """Some items of an all-or-nothing command were refused, so nothing was written.

    `problems` lists every refused item with its label (a person id) and the refusal."""

    def __init__(self, problems: Sequence[tuple[str, DomainError]]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(f"{label}: {error}" for label, error in self.problems)
        super().__init__(f"{len(self.problems)} refused, nothing written: {listed}")
