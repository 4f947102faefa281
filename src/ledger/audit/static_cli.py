"""The command-line side of reading a static publication: `ledger audit URL` (when the URL is
a publication) and `ledger verify ID --from URL`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from ledger.audit.static_checks import NOT_CHECKED, audit_publication, verify_from_publication
from ledger.audit.static_tree import TreeVerdict
from ledger.domain.certificates import parse_certificate_id
from ledger.domain.errors import DomainError
from ledger.integrity.trust_root import TrustRootError
from ledger.integrity.witness_policy import WitnessPolicyError, load_witness_policy
from ledger.trust import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_UNPINNED,
    EXIT_USAGE,
    UNPINNED,
    KnownLedgers,
    known_ledgers_path,
    load_trust_root,
)


def _pin_on_first_use(args: argparse.Namespace, verdict: TreeVerdict) -> None:
    """With --trust-on-first-use and no --trust: pin the genesis seen now, or check the pin."""
    if not (verdict.ok and verdict.trust_root is None and args.trust_on_first_use):
        return
    if verdict.genesis is None or verdict.origin is None:
        return
    try:
        pin = KnownLedgers(known_ledgers_path(args)).pin(verdict.origin, verdict.genesis)
    except TrustRootError as exc:
        verdict.add("trust root", False, str(exc))
        return
    verdict.trust_root = pin.fingerprint
    how = "recorded now (trust on first use)" if pin.new else "a known ledger"
    verdict.add("trust root", True, f"{pin.fingerprint}, {how}")


def _finish(verdict: TreeVerdict, word: str, ok_line: str, fail_line: str) -> int:
    for line in verdict.lines():
        print(line)
    if not verdict.ok:
        print(fail_line)
        return EXIT_FAIL
    if verdict.trust_root is None:
        print(f"CONSISTENT, NOT PINNED: {ok_line}")
        print(UNPINNED, file=sys.stderr)
        return EXIT_UNPINNED
    print(f"{word}: {ok_line} (trust root {verdict.trust_root})")
    return EXIT_OK


def audit_command(args: argparse.Namespace) -> int:
    try:
        trust_root = load_trust_root(args)
        witnesses = load_witness_policy(args.witnesses, args.quorum)
        trusted = None
        if args.trusted_checkpoint:
            with open(args.trusted_checkpoint, encoding="utf-8") as file:
                trusted = file.read()
    except (OSError, ValueError, WitnessPolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdict = audit_publication(args.source, trust_root, trusted, witnesses)
    _pin_on_first_use(args, verdict)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": verdict.ok,
                    "pinned": verdict.trust_root is not None,
                    "trust_root": verdict.trust_root,
                    "genesis": verdict.genesis,
                    "checks": [
                        {"check": name, "ok": ok, "detail": detail}
                        for name, ok, detail in verdict.checks
                    ],
                    "not_checked": [NOT_CHECKED],
                },
                indent=2,
            )
        )
        if not verdict.ok:
            return EXIT_FAIL
        return EXIT_OK if verdict.trust_root is not None else EXIT_UNPINNED
    print(f"not checked: {NOT_CHECKED}")
    return _finish(
        verdict,
        "OK",
        f"the publication at {args.source} holds together",
        f"AUDIT FAILED: the publication at {args.source}",
    )


def verify_command(args: argparse.Namespace) -> int:
    try:
        certificate_id = parse_certificate_id(args.file)[1]  # typed as it may be; never a path
        on = date.fromisoformat(args.at) if args.at else date.today()
        trust_root = load_trust_root(args)
        witnesses = load_witness_policy(args.witnesses, args.quorum)
    except (OSError, ValueError, WitnessPolicyError, DomainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdict = verify_from_publication(args.source, certificate_id, on, trust_root, witnesses)
    _pin_on_first_use(args, verdict)
    return _finish(
        verdict,
        "VALID",
        f"status {verdict.status} on {on}",
        f"NOT VALID: status {verdict.status} on {on}",
    )
