"""docs/ledger-format.md: its worked example verifies with hashlib, json and cryptography alone,
and its tables and examples agree with the code, so the two cannot drift.

The worked-example tests deliberately import nothing from `ledger`: this is what an auditor's own
verifier does. The drift tests at the end import the ledger's registry and compare.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md").read_text(
    encoding="utf-8"
)


def block(name: str) -> bytes:
    match = re.search(rf"```json {name}\n(.*?)\n```", DOC, re.S)
    assert match, f"no block {name} in the document"
    return match.group(1).encode("utf-8")


def value(label: str) -> str:
    match = re.search(rf"^{label}[^`\n]*`([^`]+)`", DOC, re.M)
    assert match, f"no line starting {label!r} in the document"
    return match.group(1)


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


PUBLIC = base64.b64decode(value("Public key \\(base64\\):"))
KID = value("Key id:")


def verify(stored: bytes) -> dict[str, object]:
    members = json.loads(stored)
    assert canonical(members) == stored, "stored bytes are canonical"
    signature = base64.b64decode(members.pop("sig"))
    Ed25519PublicKey.from_public_bytes(PUBLIC).verify(signature, canonical(members))
    return members


def test_the_key_id_is_derived_from_the_public_key() -> None:
    assert hashlib.sha256(PUBLIC).hexdigest()[:16] == KID


@pytest.mark.parametrize("number", [1, 2])
def test_each_worked_record_verifies_and_matches_its_stated_message_digest_and_signature(
    number: int,
) -> None:
    stored = block(f"worked-example-record-{number}")
    members = verify(stored)
    assert canonical(members) == block(f"worked-example-message-{number}")
    assert members["kid"] == KID
    assert members["version"] == number
    assert hashlib.sha256(b"\x00" + stored).hexdigest() == value(f"Digest of record {number}")
    assert json.loads(stored)["sig"] == value(f"Signature of record {number}")


def test_record_two_links_to_record_one() -> None:
    first, second = block("worked-example-record-1"), block("worked-example-record-2")
    assert verify(first)["prev"] is None
    assert verify(second)["prev"] == hashlib.sha256(b"\x00" + first).hexdigest()


def test_a_changed_byte_in_the_example_fails_verification() -> None:
    stored = block("worked-example-record-2").replace(b'"participants":14', b'"participants":15')
    with pytest.raises(InvalidSignature):
        verify(stored)


# -- drift: the document against the code ---------------------------------------------------


def event_table() -> dict[str, tuple[list[tuple[str, str]], set[str]]]:
    """Section 5's table: type -> ([(member, type word)], encrypted members)."""
    table = re.search(r"\| type \| payload members[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", DOC)
    assert table, "section 5 has no event-type table"
    rows = {}
    for line in table.group(1).splitlines():
        name, members, encrypted = (c.strip() for c in line.strip().strip("|").split("|"))
        listed = re.findall(r"`(\w+)` \(([^)]+)\)", members)
        rows[name.strip("`")] = (listed, {e.strip() for e in encrypted.split(",") if e.strip()})
    return rows


def type_word(name: str, hint: object) -> set[str]:
    """The document's words for a payload field's Python type."""
    from datetime import date
    from typing import Any

    words: dict[object, set[str]] = {
        str: {"str", "time"} if name in ("valid_until", "compromised_from") else {"str"},
        int: {"int"},
        bool: {"bool"},
        date: {"date"},
        tuple[str, ...]: {"array of str"},
        dict[str, int]: {"object of int"},
        str | None: {"str or null"},
        dict[str, Any]: {"key entry"},
        tuple[dict[str, Any], ...]: {"array of key entry"},
    }
    return words.get(hint, {f"undocumented Python type {hint!r}"})


def test_the_event_type_table_equals_the_registry_member_by_member() -> None:
    from ledger.domain.registry import EVENT_TYPES
    from ledger.store.codec import payload_fields

    table = event_table()
    assert sorted(table) == sorted(EVENT_TYPES), "event types in the document and the registry"
    base = {"actor", "role", "effective_on"}
    for name, cls in EVENT_TYPES.items():
        fields = [(f, hint) for f, hint in payload_fields(cls) if f not in base]
        listed, encrypted = table[name]
        assert [f for f, _ in fields] == [m for m, _ in listed], f"members of {name}"
        for (field_name, hint), (_, word) in zip(fields, listed, strict=True):
            assert word in type_word(field_name, hint), f"{name}.{field_name}: {word} vs {hint}"
        assert encrypted == set(getattr(cls, "PERSONAL", ())), f"encrypted members of {name}"


def test_the_members_added_later_are_the_registry_members_that_older_records_may_lack() -> None:
    import dataclasses

    from ledger.domain.registry import EVENT_TYPES

    table = re.search(r"\| type \| member added later[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", DOC)
    assert table, "section 5 has no table of members added later"
    documented = {}
    for line in table.group(1).splitlines():
        name, member, absent = (c.strip().strip("`") for c in line.strip().strip("|").split("|"))
        documented[(name, member)] = json.loads(absent)
    defaulted = {
        (name, f.name): list(f.default)
        for name, cls in EVENT_TYPES.items()
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING
    }
    assert documented == defaulted


def test_the_streams_the_document_says_start_a_stream_are_the_creating_types() -> None:
    from ledger.domain.base import CREATED_BY
    from ledger.domain.registry import EVENT_TYPES

    paragraph = DOC[DOC.index("**Streams.**") : DOC.index("### 5.2")]
    starting = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", paragraph))
    creating = {name for name, cls in EVENT_TYPES.items() if cls in CREATED_BY}
    assert starting == creating


def test_the_certificate_id_example_agrees_with_the_code() -> None:
    from ledger.domain.certificates import ALPHABET, certificate_stream, parse_certificate_id

    example = value("Certificate id of the example:")
    assert parse_certificate_id(example)[1] == example
    assert str(certificate_stream(example)) == value("Certificate stream of the example:")
    assert re.search(rf"^    {ALPHABET}$", DOC, re.M), "the alphabet is stated as the code has it"


def test_the_documented_derived_stream_ids_agree_with_the_code() -> None:
    from ledger.domain.base import LEDGER_NAMESPACE, derived_id

    assert f"= {LEDGER_NAMESPACE}" in DOC
    assert f"`{derived_id('catalogue')}`" in DOC
    assert f"`{derived_id('keyring')}`" in DOC


def test_the_documented_projections_are_the_ledgers_projections_at_their_versions() -> None:
    from projections import ALL

    documented = set(re.findall(r"^### 14\.\d `(\w+)` \(version (\d+)\)$", DOC, re.M))
    assert documented == {(p.name, str(p.version)) for p in ALL}
