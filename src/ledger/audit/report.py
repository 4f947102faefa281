"""The audit report for people."""

from __future__ import annotations

from ledger.audit.auditor import AuditReport


def render(report: AuditReport) -> str:
    lines = [
        f"audit of {report.origin}",
        f"  records           {report.records:,} in {report.streams:,} streams",
        f"  checkpoints       {report.checkpoints:,} (newest covers {report.newest_checkpoint:,})",
        f"  signatures        {report.signatures_checked:,}"
        + (" (every record)" if report.deep else " (the newest of every stream)"),
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
    first = report.first_problem
    if first is None:
        lines.append("PASS: every record, chain, root, checkpoint and signature verifies")
    else:
        lines.append(f"FAIL at log position {first.position}: {first.reason}")
        more = sorted(report.problems)[1:11]
        for problem in more:
            lines.append(f"  also at {problem.position}: {problem.reason}")
        if len(report.problems) > 11:
            lines.append(f"  ... and {len(report.problems) - 11} more problems")
    return "\n".join(lines)
