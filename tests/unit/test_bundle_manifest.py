"""The audit cross-checks a bundle's manifest against the files it describes (format 12.1)."""

from __future__ import annotations

from typing import Any

from ledger.audit.manifest import manifest_problems

GOOD: dict[str, Any] = {
    "format": "ledger-bundle/1",
    "origin": "ledger.test/log",
    "records": 10,
    "checkpoints": 2,
    "exported_at": "2026-11-28T09:30:00.000000Z",
    "projections": True,
}


def check(**changes: Any) -> list[tuple[int, str]]:
    manifest = {**GOOD, **changes}
    return manifest_problems(
        manifest, origin="ledger.test/log", records=10, checkpoints=2, projections=True
    )


def test_a_manifest_that_matches_its_files_has_no_problems() -> None:
    assert check() == []


def test_a_record_count_that_is_too_high_is_placed_where_the_missing_record_would_be() -> None:
    assert check(records=11) == [(10, "manifest counts 11 records, the bundle holds 10")]


def test_a_record_count_that_is_too_low_is_placed_at_the_first_extra_record() -> None:
    assert check(records=7) == [(7, "manifest counts 7 records, the bundle holds 10")]


def test_a_checkpoint_count_origin_or_projections_flag_that_differs_is_reported() -> None:
    assert [reason for _, reason in check(checkpoints=3)] == [
        "manifest counts 3 checkpoints, the bundle holds 2"
    ]
    assert check(origin="other.example/log")[0][0] == 0
    assert "projections.json is present" in check(projections=False)[0][1]


def test_a_member_of_the_wrong_type_or_a_missing_member_is_reported() -> None:
    assert check(records="10") == [(10, "manifest records is not of type int")]
    manifest = {k: v for k, v in GOOD.items() if k != "exported_at"}
    found = manifest_problems(
        manifest, origin="ledger.test/log", records=10, checkpoints=2, projections=True
    )
    assert len(found) == 1
    assert found[0][1].startswith("manifest members are")
