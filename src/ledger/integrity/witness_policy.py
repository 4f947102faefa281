"""Witness policy (C2SP tlog-policy): which witnesses are trusted and how many must cosign.

A policy file is line based; items are separated by spaces or tabs; ``#`` starts a comment::

    log <vkey> [<url>]                    a log (the vkey's name is its origin)
    witness <name> <vkey> [<url>]         a witness: cosignature/v1 vkey (type 0x04)
    group <name> all|any|<k> <name>...    at least k of the named witnesses or groups
    quorum <name>|none                    exactly one; names a witness or group defined above

``ledger verify`` and ``ledger audit`` take ``--witnesses FILE`` and optionally ``--quorum K``,
which replaces the file's quorum by "K of all the witnesses listed" (0 means none).

:meth:`WitnessPolicy.check` counts the valid cosignatures on a checkpoint note and raises
:class:`QuorumNotMetError` (naming who cosigned and what was needed) below the quorum. A
cosignature line from a pinned witness key that does not verify raises
:class:`InvalidCosignatureError`; lines from keys the policy does not list are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ledger.integrity.note import (
    CosignatureV1Verifier,
    Ed25519Verifier,
    InvalidSignatureError,
    MalformedCheckpointError,
    NoteError,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
)

__all__ = [
    "NONE",
    "InvalidCosignatureError",
    "PolicyGroup",
    "PolicyWitness",
    "QuorumNotMetError",
    "QuorumResult",
    "WitnessPolicy",
    "WitnessPolicyError",
    "check_newest_checkpoint",
    "load_witness_policy",
    "parse_witness_policy",
]

NONE = "none"
_V = TypeVar("_V", Ed25519Verifier, CosignatureV1Verifier)
_OVERRIDE = "--quorum"


class WitnessPolicyError(ValueError):
    """The policy file is malformed (names the line), or a --quorum value is impossible."""


class InvalidCosignatureError(Exception):
    """A cosignature line from a pinned witness key does not verify."""

    def __init__(self, witness: str, reason: str) -> None:
        self.witness = witness
        super().__init__(f"the cosignature of witness {witness} does not verify: {reason}")


class QuorumNotMetError(Exception):
    """Fewer witnesses cosigned a checkpoint than the policy's quorum needs."""

    def __init__(self, size: int | None, cosigned: Iterable[str], needed: str) -> None:
        self.size = size
        self.cosigned = tuple(cosigned)
        self.needed = needed
        which = ", ".join(self.cosigned) if self.cosigned else "none"
        what = "the checkpoint" if size is None else f"the checkpoint of size {size}"
        super().__init__(
            f"{what} is below the witness quorum: cosigned by {len(self.cosigned)}"
            f" witness(es) ({which}); the policy needs {needed}"
        )


@dataclass(frozen=True)
class PolicyWitness:
    name: str
    verifier: CosignatureV1Verifier
    url: str | None = None


@dataclass(frozen=True)
class PolicyGroup:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class QuorumResult:
    """Who cosigned (policy names, in policy order) and each cosignature's timestamp."""

    cosigned: tuple[str, ...]
    timestamps: Mapping[str, int]
    needed: str

    def __str__(self) -> str:
        which = ", ".join(self.cosigned) if self.cosigned else "none"
        return (
            f"cosigned by {len(self.cosigned)} witness(es) ({which}); the policy needs"
            f" {self.needed}"
        )


@dataclass(frozen=True)
class WitnessPolicy:
    witnesses: Mapping[str, PolicyWitness]
    groups: Mapping[str, PolicyGroup] = field(default_factory=dict)
    quorum: str = NONE
    logs: tuple[Ed25519Verifier, ...] = ()
    log_urls: Mapping[str, str] = field(default_factory=dict)

    def with_quorum(self, count: int) -> WitnessPolicy:
        """The same witnesses with the quorum "``count`` of all of them" (0: none)."""
        total = len(self.witnesses)
        if count < 0 or count > total:
            raise WitnessPolicyError(
                f"--quorum {count} is impossible: the policy lists {total} witness(es)"
            )
        if count == 0:
            return WitnessPolicy(dict(self.witnesses), {}, NONE, self.logs, self.log_urls)
        group = PolicyGroup(_OVERRIDE, count, tuple(self.witnesses))
        return WitnessPolicy(
            dict(self.witnesses), {_OVERRIDE: group}, _OVERRIDE, self.logs, self.log_urls
        )

    def describe(self, name: str | None = None) -> str:
        """The quorum rule in words, e.g. ``2 of (w1, w2, w3)``."""
        name = self.quorum if name is None else name
        if name == NONE:
            return "no cosignatures"
        if name in self.witnesses:
            return f"witness {name}"
        group = self.groups[name]
        members = ", ".join(
            m if m in self.witnesses else f"[{self.describe(m)}]" for m in group.members
        )
        return f"{group.threshold} of ({members})"

    def satisfied_by(self, cosigned: Iterable[str], name: str | None = None) -> bool:
        """Whether witnesses ``cosigned`` meet the quorum (or the named witness or group)."""
        done = set(cosigned)
        name = self.quorum if name is None else name
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in done
        group = self.groups[name]
        return sum(self.satisfied_by(done, m) for m in group.members) >= group.threshold

    def cosigners(self, note: str | bytes) -> QuorumResult:
        """Verify every cosignature on ``note`` from a pinned witness; return who cosigned."""
        try:
            text, signatures = parse_note(note)
        except NoteError as exc:
            raise WitnessPolicyError(f"the checkpoint note is malformed: {exc}") from exc
        by_key = {(w.verifier.name, w.verifier.key_id): w for w in self.witnesses.values()}
        stamps: dict[str, int] = {}
        for signature in signatures:
            witness = by_key.get((signature.name, signature.key_id))
            if witness is None:
                continue
            try:
                witness.verifier.verify(text.encode("utf-8"), signature.signature)
            except InvalidSignatureError as exc:
                raise InvalidCosignatureError(witness.name, str(exc)) from exc
            stamps[witness.name] = signature.cosignature_timestamp()
        cosigned = tuple(name for name in self.witnesses if name in stamps)
        return QuorumResult(cosigned, stamps, self.describe())

    def check(self, note: str | bytes) -> QuorumResult:
        """:meth:`cosigners`, raising :class:`QuorumNotMetError` below the quorum."""
        result = self.cosigners(note)
        if not self.satisfied_by(result.cosigned):
            raise QuorumNotMetError(_size_of(note), result.cosigned, result.needed)
        return result


def _size_of(note: str | bytes) -> int | None:
    try:
        return parse_checkpoint(parse_note(note)[0]).size
    except (NoteError, MalformedCheckpointError):
        return None


def _fields(line: str) -> list[str]:
    return line.replace("\t", " ").split()


def parse_witness_policy(text: str, *, require_quorum: bool = True) -> WitnessPolicy:
    """Parse a tlog-policy file. Raises :class:`WitnessPolicyError` naming the line."""
    witnesses: dict[str, PolicyWitness] = {}
    groups: dict[str, PolicyGroup] = {}
    logs: list[Ed25519Verifier] = []
    log_urls: dict[str, str] = {}
    keys: set[bytes] = set()
    quorum: str | None = None
    for number, line in enumerate(text.split("\n"), 1):
        fail = _Fail(number)
        if any(ch < " " and ch != "\t" for ch in line) or "\x7f" in line:
            raise fail("control characters are not allowed")
        items = _fields(line)
        if not items or items[0].startswith("#"):
            continue
        keyword, args = items[0], items[1:]
        if keyword == "log":
            if len(args) not in (1, 2):
                raise fail("want 'log <vkey> [<url>]'")
            log = _vkey(args[0], Ed25519Verifier, fail)
            if log.public_key_bytes in keys:
                raise fail(f"duplicate key {args[0]}")
            keys.add(log.public_key_bytes)
            logs.append(log)
            if len(args) == 2:
                log_urls[log.name] = args[1]
        elif keyword == "witness":
            if len(args) not in (2, 3):
                raise fail("want 'witness <name> <vkey> [<url>]'")
            name = args[0]
            if name == NONE or name in witnesses or name in groups:
                raise fail(f"the name {name!r} is reserved or already defined")
            cosigner = _vkey(args[1], CosignatureV1Verifier, fail)
            if cosigner.public_key_bytes in keys:
                raise fail(f"duplicate key {args[1]}")
            keys.add(cosigner.public_key_bytes)
            witnesses[name] = PolicyWitness(name, cosigner, args[2] if len(args) == 3 else None)
        elif keyword == "group":
            if len(args) < 3:
                raise fail("want 'group <name> all|any|<k> <name>...'")
            name, rule, members = args[0], args[1], tuple(args[2:])
            if name == NONE or name in witnesses or name in groups:
                raise fail(f"the name {name!r} is reserved or already defined")
            for member in members:
                if member not in witnesses and member not in groups:
                    raise fail(f"group member {member!r} is not defined on an earlier line")
            if len(set(members)) != len(members):
                raise fail("a group lists the same member twice")
            threshold = _threshold(rule, len(members), fail)
            groups[name] = PolicyGroup(name, threshold, members)
        elif keyword == "quorum":
            if len(args) != 1:
                raise fail("want 'quorum <name>'")
            if quorum is not None:
                raise fail("a policy has exactly one quorum line")
            if args[0] != NONE and args[0] not in witnesses and args[0] not in groups:
                raise fail(f"quorum {args[0]!r} is not a witness or group defined earlier")
            quorum = args[0]
        else:
            raise fail(f"unknown keyword {keyword!r} (want log, witness, group or quorum)")
    if quorum is None and require_quorum:
        raise WitnessPolicyError("the policy has no quorum line ('quorum <name>' or 'quorum none')")
    return WitnessPolicy(witnesses, groups, quorum or NONE, tuple(logs), log_urls)


def _vkey(text: str, want: type[_V], fail: _Fail) -> _V:
    try:
        verifier = parse_verifier_key(text)
    except NoteError as exc:
        raise fail(f"bad vkey: {exc}") from exc
    if not isinstance(verifier, want):
        kind = "cosignature/v1 (type 0x04)" if want is CosignatureV1Verifier else "Ed25519 (0x01)"
        raise fail(f"vkey {verifier.name} is not an {kind} key")
    return verifier


class _Fail:
    """Makes the error for one policy line."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __call__(self, reason: str) -> WitnessPolicyError:
        return WitnessPolicyError(f"policy line {self.number}: {reason}")


def _threshold(rule: str, members: int, fail: _Fail) -> int:
    if rule == "all":
        return members
    if rule == "any":
        return 1
    if not rule.isdigit() or (len(rule) > 1 and rule.startswith("0")):
        raise fail(f"threshold {rule!r} is not all, any or a decimal number")
    value = int(rule)
    if not 1 <= value <= members:
        raise fail(f"threshold {value} is not between 1 and the {members} member(s)")
    return value


def load_witness_policy(path: str | Path | None, quorum: int | None = None) -> WitnessPolicy | None:
    """The policy of ``--witnesses FILE`` with ``--quorum K`` applied (None without a file).

    The quorum line may be left out of the file when ``quorum`` is given.
    """
    if path is None:
        if quorum is not None:
            raise WitnessPolicyError("--quorum needs --witnesses FILE (the pinned witness keys)")
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessPolicyError(f"cannot read the witness policy {path}: {exc}") from exc
    try:
        policy = parse_witness_policy(text, require_quorum=quorum is None)
    except WitnessPolicyError as exc:
        raise WitnessPolicyError(f"{path}: {exc}") from exc
    return policy if quorum is None else policy.with_quorum(quorum)


def check_newest_checkpoint(
    checkpoints: Sequence[tuple[int, str]], policy: WitnessPolicy
) -> QuorumResult:
    """For an audit: every pinned witness's cosignature on every checkpoint verifies, and the
    newest checkpoint (the last of ``(size, note)`` in size order) meets the quorum."""
    if not checkpoints:
        raise QuorumNotMetError(None, (), f"{policy.describe()}, and there is no checkpoint")
    for size, note in checkpoints[:-1]:
        try:
            policy.cosigners(note)
        except InvalidCosignatureError as exc:
            raise InvalidCosignatureError(exc.witness, f"checkpoint of size {size}: {exc}") from exc
    return policy.check(checkpoints[-1][1])
