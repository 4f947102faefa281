"""RFC 8785 canonical JSON: our encoder against the RFC's own examples and a reference library."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.canonical import CanonicalError, canonical_bytes, parse_canonical

SAFE_INT = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | SAFE_INT | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


def test_members_sort_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical_bytes(value)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_strings_escape_exactly_as_rfc_8785_requires() -> None:
    assert canonical_bytes('\u2028\x1f"\\/\u00e9\n') == b'"\xe2\x80\xa8\\u001f\\"\\\\/\xc3\xa9\\n"'


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_canonical_bytes_equal_the_reference_implementation(value: object) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@given(JSON_VALUES)
def test_canonical_bytes_round_trip_through_the_strict_parser(value: object) -> None:
    assert parse_canonical(canonical_bytes(value)) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "floating-point"),
        (2**53, "outside the I-JSON safe range"),
        ({1: "x"}, "is not a string"),
        (b"bytes", "is not a JSON value"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_values_outside_the_record_model_are_refused(value: object, message: str) -> None:
    with pytest.raises(CanonicalError, match=message):
        canonical_bytes(value)


def test_the_parser_refuses_non_canonical_bytes() -> None:
    with pytest.raises(CanonicalError, match="not in canonical"):
        parse_canonical(b'{"b":1, "a":2}')
    with pytest.raises(CanonicalError, match="floating-point"):
        parse_canonical(b'{"a":1.0}')
