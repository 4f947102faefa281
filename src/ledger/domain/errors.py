"""Domain errors. Each says what was refused and why, in the domain's words."""

from __future__ import annotations


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
