"""The audit report for people: the verdict first, naming the first bad position or exactly
what was checked."""

from __future__ import annotations

from ledger.audit.auditor import AuditReport

SHOWN_PROBLEMS = 10


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _signatures(report: AuditReport) -> str:
    if report.deep:
        return f"{report.signatures_checked:,} of {report.records:,} signatures (every record)"
    return (
        f"{report.signatures_checked:,} of {report.records:,} signatures (the newest record of"
        " each stream, which chains every record before it; --deep checks all)"
    )


def verdict(report: AuditReport) -> str:
    ordered = report.ordered_problems()
    if ordered:
        first = ordered[0]
        count = len(report.problems)
        more = f" ({count - 1} more below)" if count > 1 else ""
        return f"FAIL at log position {first.position}: {first.reason}{more}"
    what = (
        f"{_n(report.records, 'record')} in {_n(report.streams, 'stream')},"
        f" {_n(report.checkpoints, 'checkpoint')} (roots reproduced up to size"
        f" {report.verified_size:,}), {_signatures(report)},"
        f" {_n(report.key_history_records, 'key-history record')} ({_n(report.keys, 'key')})"
    )
    if report.trusted_size is not None:
        what += f", the trusted checkpoint of size {report.trusted_size:,}"
    witnesses = ", ".join(report.witnesses) if report.witnesses else "none required"
    if report.pinned:
        return (
            f"PASS: {what}; trust root {report.trust_root} ({report.pinned_by});"
            f" witnesses: {witnesses}"
        )
    return (
        f"CONSISTENT, NOT PINNED: {what}, all against keys taken from the material itself"
        f" (its genesis is {report.genesis}); witnesses: {witnesses}"
    )


def render(report: AuditReport) -> str:
    lines = [verdict(report), f"audit of {report.origin}"]
    ordered = report.ordered_problems()
    for problem in ordered[1 : SHOWN_PROBLEMS + 1]:
        lines.append(f"  also at {problem.position}: {problem.reason}")
    if len(ordered) > SHOWN_PROBLEMS + 1:
        lines.append(f"  ... and {len(ordered) - SHOWN_PROBLEMS - 1} more problems")
    lines += [
        f"  records           {report.records:,} in {report.streams:,} streams",
        f"  checkpoints       {report.checkpoints:,} (newest covers {report.newest_checkpoint:,})",
        f"  signatures        {_signatures(report)}",
        f"  key history       {_n(report.key_history_records, 'record')}, {_n(report.keys, 'key')}",
        "  trust root        "
        + (f"{report.trust_root} ({report.pinned_by})" if report.pinned else "none given"),
    ]
    if report.trusted_size is not None:
        lines.append(f"  trusted           checkpoint of size {report.trusted_size:,}")
    if report.unsigned_tail:
        lines.append(
            f"  note              {report.unsigned_tail:,} records after the newest checkpoint"
            " are not yet covered by a signed root"
        )
    for name, state in sorted(report.projections.items()):
        lines.append(f"  projection        {name}: {state}")
    for item in report.not_checked:
        lines.append(f"  not checked       {item}")
    return "\n".join(lines)
