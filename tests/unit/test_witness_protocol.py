"""C2SP tlog-witness bodies byte for byte: the spec's example request and response are known
answers for the parser and the formatter; malformed bodies are named by their defect."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ledger.integrity.tlog_witness import (
    MAX_PROOF_LINES,
    MalformedWitnessBodyError,
    format_add_checkpoint,
    format_cosignatures,
    format_size,
    origin_hash,
    parse_add_checkpoint,
    parse_cosignatures,
    parse_size,
)

# The C2SP tlog-witness text, vendored beside the tests; the shared copy, where it is beside the
# project, must be the same text.
SPEC = Path(__file__).resolve().parents[1] / "specs" / "c2sp" / "tlog-witness.md"
SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "c2sp" / "tlog-witness.md"

# C2SP tlog-witness, "add-checkpoint": the example request body and response body.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks"
    "+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)
SPEC_PROOF = [
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
]
SPEC_REQUEST = (
    "old 20852014\n" + "".join(p + "\n" for p in SPEC_PROOF) + "\n" + SPEC_CHECKPOINT
).encode()
SPEC_RESPONSE = (
    "\u2014 witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSv"
    "VjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n"
    "\u2014 witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64"
    "vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n"
    "\u2014 witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKb"
    "YKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n"
).encode()


def _indented(body: bytes) -> str:
    return "".join(
        "    " + line + "\n" if line else "\n" for line in body.decode().split("\n")[:-1]
    )


def test_the_example_bodies_here_are_the_ones_in_the_spec() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    if SHARED_SPEC.is_file():
        assert SHARED_SPEC.read_text(encoding="utf-8") == spec
    assert _indented(SPEC_REQUEST) in spec
    assert _indented(SPEC_RESPONSE) in spec


def test_spec_example_request_parses_into_old_size_proof_and_checkpoint() -> None:
    request = parse_add_checkpoint(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert [base64.b64encode(h).decode() for h in request.proof] == SPEC_PROOF
    assert request.note == SPEC_CHECKPOINT


def test_spec_example_request_is_formatted_byte_for_byte() -> None:
    proof = [base64.b64decode(p) for p in SPEC_PROOF]
    assert format_add_checkpoint(20852014, proof, SPEC_CHECKPOINT) == SPEC_REQUEST


def test_spec_example_response_parses_and_formats_byte_for_byte() -> None:
    signatures = parse_cosignatures(SPEC_RESPONSE)
    assert [s.name for s in signatures] == ["witness.example/w1"] * 2 + ["witness.example/w2"]
    assert format_cosignatures(signatures) == SPEC_RESPONSE


def test_request_with_old_size_zero_and_no_proof() -> None:
    body = format_add_checkpoint(0, [], SPEC_CHECKPOINT)
    assert body.startswith(b"old 0\n\nexample.com/behind-the-sofa\n")
    request = parse_add_checkpoint(body)
    assert (request.old_size, request.proof) == (0, ())


def test_conflict_body_is_the_size_and_a_newline() -> None:
    assert format_size(130) == b"130\n"
    assert parse_size(b"130\n") == 130
    assert parse_size(b"0\n") == 0


@pytest.mark.parametrize(
    ("defect", "body"),
    [
        ("no-old-line", b"example.com/log\n"),
        ("old-size-leading-zero", b"old 020\n\n" + SPEC_CHECKPOINT.encode()),
        ("old-size-negative", b"old -1\n\n" + SPEC_CHECKPOINT.encode()),
        ("old-size-too-big", b"old 18446744073709551616\n\n" + SPEC_CHECKPOINT.encode()),
        ("old-with-two-spaces", b"old  20\n\n" + SPEC_CHECKPOINT.encode()),
        ("no-empty-line", b"old 20\n" + SPEC_PROOF[0].encode() + b"\n"),
        ("no-checkpoint", b"old 20\n\n"),
        ("proof-not-base64", b"old 20\n!!!!\n\n" + SPEC_CHECKPOINT.encode()),
        ("proof-short-hash", b"old 20\nAAAA\n\n" + SPEC_CHECKPOINT.encode()),
        (
            "proof-64-lines",
            b"old 20\n" + (SPEC_PROOF[0].encode() + b"\n") * 64 + b"\n" + SPEC_CHECKPOINT.encode(),
        ),
        ("not-utf8", b"old 20\n\n\xff\xfe\n"),
    ],
)
def test_malformed_request_bodies_are_refused(defect: str, body: bytes) -> None:
    with pytest.raises(MalformedWitnessBodyError):
        parse_add_checkpoint(body)


def test_63_proof_lines_are_accepted() -> None:
    body = b"old 20\n" + (SPEC_PROOF[0].encode() + b"\n") * MAX_PROOF_LINES + b"\n"
    assert len(parse_add_checkpoint(body + SPEC_CHECKPOINT.encode()).proof) == MAX_PROOF_LINES


@pytest.mark.parametrize("body", [b"", b"130", b"0130\n", b"130\n\n", b"abc\n"])
def test_malformed_conflict_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedWitnessBodyError):
        parse_size(body)


def test_origin_hash_is_lower_case_hex_sha256_of_the_origin() -> None:
    assert origin_hash("example.com/behind-the-sofa") == (
        "5fd2dc0beb4ce54da5050cf6d5c75248b023abad441c3cecde3976fbe9da4fe4"
    )
