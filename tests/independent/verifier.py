"""An independent verifier of ledger bundles, written from docs/ledger-format.md alone.

It imports only the standard library and `cryptography`, never the ledger's own code: it is what
an auditor would write in any language, and it proves that the document is enough. Section
numbers in comments refer to the document. The event-type table is read from the document
itself (section 5), so the verifier and the document cannot disagree about payloads.

`verify_bundle(directory)` returns a `Report` whose problems each name a log position (or
`None` for a problem of the bundle as a whole); it never stops at the first problem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md"

# Section 5: the namespace of derived stream ids.
LEDGER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://clustercoaching.eu/ledger")
KEYRING_STREAM = str(uuid.uuid5(LEDGER_NAMESPACE, "keyring"))
CATALOGUE_STREAM = str(uuid.uuid5(LEDGER_NAMESPACE, "catalogue"))

RECORD_MEMBERS = {"format", "origin", "stream", "version", "type", "recorded_at", "payload"}
RECORD_MEMBERS |= {"prev", "kid", "sig"}
ROLES = {"admin", "registrar", "tutor", "committee", "auditor"}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
STREAM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX64 = re.compile(r"[0-9a-f]{64}")
KID = re.compile(r"[0-9a-f]{16}")
MAX_SAFE = 2**53 - 1

# Section 5.2: certificate ids.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CERTIFICATE_ID = re.compile(
    r"(AT|LT|IC)-([0-9A-HJKMNP-TV-Z]{4})-([0-9A-HJKMNP-TV-Z]{4})-([0-9A-HJKMNP-TV-Z]{4})"
)
PREFIX_OF_ISSUE = {
    "certificate.associate_trainer_issued": "AT",
    "certificate.licence_granted": "LT",
    "certificate.instructor_certified": "IC",
}

# Section 5.3: the types that start a stream, and what payload members refer to.
STARTS = {
    "appeal.lodged",
    "certificate.associate_trainer_issued",
    "certificate.instructor_certified",
    "certificate.licence_granted",
    "enrolment.enrolled",
    "keyring.genesis",
    "material.catalogue_opened",
    "person.registered",
    "programme.opened",
    "project.registered",
}
STREAM_REFERENCES = {
    "programme_id": {"programme.opened"},
    "person_id": {"person.registered"},
    "holder_id": {"person.registered"},
    "appellant_id": {"person.registered"},
    "project_id": {"project.registered"},
    "enrolment_id": {"enrolment.enrolled"},
    "duplicate_of": {"person.registered"},
    "duplicate_id": {"person.registered"},
}
CERTIFICATE_REFERENCES = {
    ("appeal.lodged", "certificate_id"): set(PREFIX_OF_ISSUE),
    ("enrolment.qualification_awarded", "certificate_id"): {"certificate.associate_trainer_issued"},
    ("certificate.licence_granted", "qualification_id"): {"certificate.associate_trainer_issued"},
    ("certificate.instructor_certified", "licence_id"): {"certificate.licence_granted"},
}


class DocumentError(Exception):
    """The document does not say what the verifier needs (a missing table or block)."""


@dataclass(frozen=True, order=True)
class Problem:
    position: int  # -1: the bundle as a whole
    reason: str


@dataclass
class Report:
    records: int = 0
    checkpoints: int = 0
    signatures: int = 0
    verified_size: int = 0
    projections: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def at(self, position: int) -> list[str]:
        return [p.reason for p in self.problems if p.position == position]

    def add(self, position: int, reason: str) -> None:
        self.problems.append(Problem(position, reason))


# -- the document ---------------------------------------------------------------------------


def event_types(document: str) -> dict[str, dict[str, str]]:
    """Section 5's table: event type -> {payload member: its type in the document's words}."""
    table = re.search(r"\| type \| payload members[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", document)
    if table is None:
        raise DocumentError("section 5 has no event-type table")
    types: dict[str, dict[str, str]] = {}
    for line in table.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        members: dict[str, str] = {}
        if cells[1] != "—":
            for item in re.finditer(r"`(\w+)` \(([^)]+)\)", cells[1]):
                members[item.group(1)] = item.group(2)
        types[name] = members
    return types


def members_added_later(document: str) -> dict[str, dict[str, Any]]:
    """Section 5's "members added later": type -> {member: the value an absent one reads as}."""
    table = re.search(
        r"\| type \| member added later[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", document
    )
    if table is None:
        raise DocumentError("section 5 has no table of members added later")
    found: dict[str, dict[str, Any]] = {}
    for line in table.group(1).splitlines():
        name, member, absent = (c.strip().strip("`") for c in line.strip().strip("|").split("|"))
        found.setdefault(name, {})[member] = json.loads(absent)
    return found


def encrypted_members(document: str) -> dict[str, set[str]]:
    """Section 5's third column: the members each type holds encrypted."""
    found: dict[str, set[str]] = {}
    table = re.search(r"\| type \| payload members[^\n]*\n\|[-| ]+\|\n((?:\|[^\n]*\n)+)", document)
    assert table is not None
    for line in table.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found[cells[0].strip("`")] = {c.strip() for c in cells[2].split(",") if c.strip()}
    return found


# -- section 1: canonical JSON --------------------------------------------------------------


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"member {name!r} occurs twice")
        if not name.isascii():
            raise ValueError(f"member name {name!r} is not ASCII")
        result[name] = value
    return result


def _no_float(text: str) -> Any:
    raise ValueError(f"floating-point number {text} in a record")


def parse_canonical(data: bytes) -> Any:
    """Parse and insist on the canonical form (section 1): re-serialise and compare."""
    value = json.loads(
        data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_float=_no_float
    )
    _check_integers(value)
    if canonical(value) != data:
        raise ValueError("bytes are not in canonical form")
    return value


def _check_integers(value: Any) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -MAX_SAFE <= value <= MAX_SAFE:
        raise ValueError(f"integer {value} is outside the I-JSON safe range")
    if isinstance(value, dict):
        for item in value.values():
            _check_integers(item)
    if isinstance(value, list):
        for item in value:
            _check_integers(item)


def b64(text: Any, size: int | None = None) -> bytes:
    """Standard base64 with padding, canonical; `size` bytes when given."""
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not standard base64: {exc}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    if size is not None and len(raw) != size:
        raise ValueError(f"{len(raw)} bytes, want {size}")
    return raw


# -- section 2: records ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def record_message(members: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in members.items() if k != "sig"})


def ed25519_verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


# -- section 5: payloads --------------------------------------------------------------------


def luhn32_check(body: str) -> str:
    """Section 5.2: the check character of eleven base-32 characters."""
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def certificate_id_problem(text: Any) -> str | None:
    if not isinstance(text, str):
        return "a certificate id is not a string"
    match = CERTIFICATE_ID.fullmatch(text)
    if match is None:
        return f"{text!r} is not in certificate id form"
    body = match.group(2) + match.group(3) + match.group(4)
    if luhn32_check(body[:11]) != body[11]:
        return (
            f"certificate id {text} has check character {body[11]}, want {luhn32_check(body[:11])}"
        )
    return None


def certificate_stream(certificate_id: str) -> str:
    return str(uuid.uuid5(LEDGER_NAMESPACE, f"certificate/{certificate_id}"))


def value_problem(value: Any, kind: str, name: str) -> str | None:
    """Check a payload member against its type in the document's words (section 5.1)."""
    if kind.endswith(" or null"):
        return None if value is None else value_problem(value, kind[: -len(" or null")], name)
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "date":
        ok = isinstance(value, str) and DATE.fullmatch(value) is not None
    elif kind == "time":
        ok = isinstance(value, str) and TIME.fullmatch(value) is not None
    elif kind == "array of str":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind == "object of int":
        ok = isinstance(value, dict) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value.values()
        )
    elif kind == "key entry":
        return key_entry_problem(value)
    elif kind == "array of key entry":
        if not isinstance(value, list) or not value:
            return f"{name} is not a non-empty array of key entries"
        for item in value:
            found = key_entry_problem(item)
            if found:
                return found
        return None
    else:
        return f"the document names an unknown type {kind!r} for {name}"
    return None if ok else f"payload member {name} is not of type {kind}"


KEY_ENTRY = {"kid", "alg", "purpose", "public_key", "valid_from", "valid_until"}
KEY_ENTRY |= {"compromised_from"}


def key_entry_problem(entry: Any) -> str | None:
    """Section 7: one key entry."""
    if not isinstance(entry, dict) or set(entry) != KEY_ENTRY:
        return f"key entry does not have exactly the members {sorted(KEY_ENTRY)}"
    if entry["alg"] != "Ed25519" or entry["purpose"] not in ("records", "checkpoints"):
        return (
            f"key entry {entry.get('kid')!r} has alg {entry['alg']!r}, purpose {entry['purpose']!r}"
        )
    try:
        public = b64(entry["public_key"], 32)
    except ValueError as exc:
        return f"key {entry['kid']!r}: public key {exc}"
    if entry["kid"] != key_id(public):
        return f"key {entry['kid']!r}: id does not match its public key ({key_id(public)})"
    for name in ("valid_from", "valid_until", "compromised_from"):
        stamp = entry[name]
        if (name == "valid_from" or stamp is not None) and (
            not isinstance(stamp, str) or TIME.fullmatch(stamp) is None
        ):
            return f"key {entry['kid']}: {name} is not a time in the record form"
    return None


def encrypted_problem(value: Any, name: str, own: bool = True) -> str | None:
    """Section 6: an encrypted personal field; `own` on a person's own stream (no `person`
    member), else naming the person in `person` (or, in a legacy record, a plain string)."""
    if not own and isinstance(value, str):
        return None
    want = {"enc", "iv", "ct"} if own else {"enc", "iv", "ct", "person"}
    if not isinstance(value, dict) or set(value) != want:
        return f"personal field {name} is not an encrypted object"
    if not own and (
        not isinstance(value["person"], str) or not STREAM_ID.fullmatch(value["person"])
    ):
        return f"personal field {name} names no person"
    if value["enc"] != "A256GCM":
        return f"personal field {name} has cipher {value['enc']!r}"
    try:
        b64(value["iv"], 12)
        if len(b64(value["ct"])) < 16:
            return f"personal field {name} has no room for its tag"
    except ValueError as exc:
        return f"personal field {name}: {exc}"
    return None


# -- sections 9 and 10: the tree and checkpoints --------------------------------------------


def tree_hash(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, exactly as written (a naive recursion)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + tree_hash(leaves[:split]) + tree_hash(leaves[split:])).digest()


def note_key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Note:
    origin: str
    size: int
    root: bytes
    signed_at: str
    text: bytes
    signatures: list[tuple[str, bytes, bytes]]  # (key name, key id, signature bytes)


def parse_checkpoint(note: str) -> Note:
    """Section 10: the text, a blank line, signature lines; strict."""
    if "\r" in note or not note.endswith("\n"):
        raise ValueError("a note has LF line endings and ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise ValueError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = text[:-1].split("\n")
    if len(lines) != 4:
        raise ValueError(f"checkpoint text has {len(lines)} lines, want 4")
    origin, size, root, stamp = lines
    if re.fullmatch(r"0|[1-9][0-9]*", size) is None:
        raise ValueError(f"size {size!r} is not canonical decimal")
    if not stamp.startswith("signed-at ") or TIME.fullmatch(stamp[10:]) is None:
        raise ValueError(f"fourth line {stamp!r} is not a signed-at time")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise ValueError(f"signature line {line!r} does not start with an em dash and space")
        name, _, encoded = line[2:].partition(" ")
        raw = b64(encoded)
        if len(raw) < 5:
            raise ValueError(f"signature of {name} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return Note(origin, int(size), b64(root, 32), stamp[10:], text.encode(), signatures)


def verify_cosignature(note: Note, name: str, public_key: bytes) -> int | None:
    """Section 10.2: a witness's cosignature/v1 line; its timestamp when it verifies."""
    wanted = note_key_id(name, 0x04, public_key)
    for signer, kid, raw in note.signatures:
        if signer == name and kid == wanted and len(raw) == 72:
            stamp = int.from_bytes(raw[:8], "big")
            message = b"cosignature/v1\ntime %d\n" % stamp + note.text
            if stamp < 2**63 and ed25519_verifies(public_key, raw[8:], message):
                return stamp
    return None


# -- section 15: key history ----------------------------------------------------------------


@dataclass
class RingKey:
    entry: dict[str, Any]
    introduced_at: int

    @property
    def public(self) -> bytes:
        return base64.b64decode(self.entry["public_key"])

    def window_problem(self, at: str) -> str | None:
        e = self.entry
        if e["compromised_from"] is not None and at >= e["compromised_from"]:
            return f"key {e['kid']} is compromised from {e['compromised_from']}; signed at {at}"
        if at < e["valid_from"]:
            return f"key {e['kid']} is valid from {e['valid_from']}; signed at {at}"
        if e["valid_until"] is not None and at >= e["valid_until"]:
            return f"key {e['kid']} is valid until {e['valid_until']}; signed at {at}"
        return None


def _apply_key_history(
    ring: dict[str, RingKey], position: int, rec: dict[str, Any], report: Report
) -> None:
    """Rules 4 to 6 of section 15, then the change to the ring."""
    p, at, signer = rec["payload"], rec["recorded_at"], rec["kid"]
    kind = rec["type"]
    if kind == "keyring.key_introduced":
        entry = p["key"]
        if entry["kid"] in ring:
            report.add(position, f"key {entry['kid']} is introduced twice")
        elif entry["valid_from"] < at:
            report.add(
                position,
                f"key {entry['kid']} is back-dated: valid from {entry['valid_from']}, introduced at {at}",
            )
        elif entry["valid_until"] is not None or entry["compromised_from"] is not None:
            report.add(position, f"key {entry['kid']} is introduced already retired or marked")
        else:
            ring[entry["kid"]] = RingKey(dict(entry), position)
    elif kind == "keyring.key_retired":
        key = ring.get(p["kid"])
        if key is None:
            report.add(position, f"retired key {p['kid']} is not in the key ring")
        elif key.entry["valid_until"] is not None:
            report.add(position, f"key {p['kid']} is already retired")
        elif p["valid_until"] < at:
            report.add(
                position,
                f"key {p['kid']} is retired retroactively: until {p['valid_until']}, recorded {at}",
            )
        else:
            key.entry["valid_until"] = p["valid_until"]
    elif kind == "keyring.key_compromised":
        key = ring.get(p["kid"])
        if key is None:
            report.add(position, f"compromised key {p['kid']} is not in the key ring")
        elif signer == p["kid"]:
            report.add(position, f"key {p['kid']} marks itself compromised")
        elif (
            key.entry["compromised_from"] is not None
            and p["compromised_from"] >= key.entry["compromised_from"]
        ):
            report.add(position, f"key {p['kid']}: a later mark must move compromised_from earlier")
        else:
            key.entry["compromised_from"] = p["compromised_from"]


def _genesis(position: int, rec: dict[str, Any] | None, report: Report) -> dict[str, RingKey]:
    """Rule 1 of section 15: the key ring at log position 0."""
    if rec is None or rec["type"] != "keyring.genesis":
        found = "nothing" if rec is None else rec["type"]
        report.add(0, f"log position 0 is {found}, not keyring.genesis (section 15 rule 1)")
        return {}
    if rec["stream"] != KEYRING_STREAM or rec["version"] != 1:
        report.add(0, "keyring.genesis is not version 1 of the key-ring stream")
    ring: dict[str, RingKey] = {}
    for entry in rec["payload"]["keys"]:
        if entry["kid"] in ring:
            report.add(0, f"genesis lists key {entry['kid']} twice")
        if entry["valid_from"] > rec["recorded_at"]:
            report.add(0, f"genesis key {entry['kid']} is valid only from {entry['valid_from']}")
        if entry["valid_until"] is not None or entry["compromised_from"] is not None:
            report.add(0, f"genesis key {entry['kid']} is already retired or marked")
        ring[entry["kid"]] = RingKey(dict(entry), 0)
    purposes = {key.entry["purpose"] for key in ring.values()}
    if purposes != {"records", "checkpoints"}:
        report.add(
            0, f"genesis keys have purposes {sorted(purposes)}, want records and checkpoints"
        )
    if rec["kid"] not in ring or ring[rec["kid"]].entry["purpose"] != "records":
        report.add(0, f"genesis is signed by {rec['kid']}, not a records key it lists")
    return ring


def trust_root(origin: str, genesis: bytes) -> bytes:
    """Section 16: the trust root of a ledger, from the stored bytes of log position 0."""
    keys = json.loads(genesis)["payload"]["keys"]
    return canonical(
        {
            "format": "ledger-trust-root/1",
            "origin": origin,
            "genesis": leaf_hash(genesis).hex(),
            "keys": [
                {"kid": k["kid"], "purpose": k["purpose"], "public_key": k["public_key"]}
                for k in keys
            ],
        }
    )


def fingerprint(root: bytes) -> str:
    return "sha256:" + hashlib.sha256(root).hexdigest()


# -- section 12: the bundle -----------------------------------------------------------------

MANIFEST = {
    "format": str,
    "origin": str,
    "records": int,
    "checkpoints": int,
    "exported_at": str,
    "projections": bool,
}


def _lines(path: Path, report: Report) -> list[bytes]:
    """Section 12.2: LF only, every line ends with LF, no empty line."""
    data = path.read_bytes()
    if b"\r" in data:
        report.add(-1, f"{path.name} contains a carriage return (lines end with LF only)")
    if data and not data.endswith(b"\n"):
        report.add(-1, f"{path.name} does not end with a newline")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if any(not line for line in lines):
        report.add(-1, f"{path.name} has an empty line")
    return lines


def _json_file(path: Path, report: Report) -> Any:
    data = path.read_bytes()
    if b"\r" in data or not data.endswith(b"}\n"):
        report.add(-1, f"{path.name} is not one JSON object followed by exactly one LF")
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        report.add(-1, f"{path.name} is not JSON: {exc}")
        return None


def verify_bundle(
    directory: Path,
    *,
    document: str | None = None,
    trusted_checkpoint: str | None = None,
    trust: bytes | None = None,
    witnesses: dict[str, bytes] | None = None,
) -> Report:
    """Every check of section 12.3, in log order; problems name log positions."""
    text = document if document is not None else DOCUMENT.read_text("utf-8")
    types, personal, later = event_types(text), encrypted_members(text), members_added_later(text)
    report = Report()
    for name in (
        "manifest.json",
        "records.jsonl",
        "stored.csv",
        "checkpoints.jsonl",
        "keyring.json",
    ):
        if not (directory / name).is_file():
            report.add(-1, f"the bundle has no {name}")
            return report
    manifest = _json_file(directory / "manifest.json", report) or {}
    keyring = _json_file(directory / "keyring.json", report) or {}
    if set(manifest) != set(MANIFEST):
        report.add(-1, f"manifest members are {sorted(manifest)}, want {sorted(MANIFEST)}")
    for name, kind in MANIFEST.items():
        if name in manifest and (type(manifest[name]) is not kind):
            report.add(-1, f"manifest member {name} is not of type {kind.__name__}")
    if manifest.get("format") != "ledger-bundle/1":
        report.add(-1, f"manifest format is {manifest.get('format')!r}")
    if not isinstance(manifest.get("exported_at"), str) or not TIME.fullmatch(
        manifest["exported_at"]
    ):
        report.add(-1, "manifest exported_at is not a time in the record form")
    origin = keyring.get("origin")
    if manifest.get("origin") != origin:
        report.add(
            -1, f"manifest origin {manifest.get('origin')!r} differs from the key ring's {origin!r}"
        )

    records = _lines(directory / "records.jsonl", report)
    stored = _lines(directory / "stored.csv", report)
    report.records = len(records)
    if manifest.get("records") != len(records):
        report.add(
            -1,
            f"manifest counts {manifest.get('records')} records, records.jsonl holds {len(records)}",
        )
    if not stored or stored[0] != b"stream,version,type":
        report.add(-1, "stored.csv does not start with the header line stream,version,type")
    stored = stored[1:]
    if len(stored) != len(records):
        report.add(
            -1, f"stored.csv has {len(stored)} lines after its header, records.jsonl {len(records)}"
        )

    leaves: list[bytes] = []
    parsed: list[dict[str, Any] | None] = []
    heads: dict[str, tuple[int, str, int]] = {}  # stream -> (version, digest hex, position)
    first_type: dict[str, str] = {}
    references: list[tuple[int, str, str, set[str]]] = []
    courses: dict[str, set[str]] = {}  # person stream -> delivery ids not retracted
    ring: dict[str, RingKey] = {}

    for position, data in enumerate(records):
        leaves.append(leaf_hash(data))
        rec = _record(position, data, origin, types, personal, later, report)
        parsed.append(rec)
        if position < len(stored):
            place = stored[position].decode("utf-8", "replace")
            if rec is not None and place != f"{rec['stream']},{rec['version']},{rec['type']}":
                report.add(
                    position,
                    f"record {rec['stream']},{rec['version']},{rec['type']} is stored as {place}",
                )
        if position == 0:
            ring = _genesis(0, rec, report)
            if not ring:
                # Without a genesis, fall back to keyring.json so later checks still say something.
                ring = {
                    e["kid"]: RingKey(dict(e), 0)
                    for e in keyring.get("keys", [])
                    if not key_entry_problem(e)
                }
        if rec is None:
            continue
        stream, version = rec["stream"], rec["version"]
        # Section 3: the stream chain.
        head = heads.get(stream)
        if head is None:
            if version != 1 or rec["prev"] is not None:
                report.add(
                    position,
                    f"stream {stream} starts at version {version}"
                    + ("" if rec["prev"] is None else " with a prev digest"),
                )
            first_type[stream] = rec["type"]
        elif version != head[0] + 1:
            report.add(
                position,
                f"stream {stream}: version {version} follows version {head[0]} (log position {head[2]})",
            )
        elif rec["prev"] != head[1]:
            report.add(
                head[2],
                f"stream {stream} version {head[0]} does not match the digest that version {version} (log position {position}) names",
            )
        heads[stream] = (version, leaves[-1].hex(), position)
        _stream_rules(position, rec, first_type, references, report)
        _course_rules(position, rec, courses, report)
        # Section 15 rule 3: the signer is a records key of the ring at this position.
        key = ring.get(rec["kid"])
        if key is None or key.entry["purpose"] != "records":
            report.add(
                position,
                f"key {rec['kid']} is not a records key of the key ring at position {position}",
            )
        else:
            report.signatures += 1
            if not ed25519_verifies(key.public, base64.b64decode(rec["sig"]), record_message(rec)):
                report.add(position, f"signature does not verify under key {rec['kid']}")
            if rec["type"].startswith("keyring.") and position > 0:
                found = key.window_problem(rec["recorded_at"])
                if found:
                    report.add(
                        position, f"key-history record signed by a key not valid then: {found}"
                    )
        if rec["type"].startswith("keyring.") and position > 0:
            if rec["type"] == "keyring.genesis":
                report.add(position, "keyring.genesis occurs after log position 0")
            else:
                _apply_key_history(ring, position, rec, report)

    # Section 15 rule 7: every record inside its key's window in the final ring.
    for position, rec in enumerate(parsed):
        if rec is not None and rec["kid"] in ring:
            found = ring[rec["kid"]].window_problem(rec["recorded_at"])
            if found:
                report.add(position, found)
    # Section 5.3: references name streams the log holds, of the right kind.
    for position, name, stream, wanted in references:
        if first_type.get(stream) not in wanted:
            report.add(
                position,
                f"payload member {name} names stream {stream}, which is not a {' or '.join(sorted(wanted))} stream of this log",
            )
    # Section 15 rule 8: keyring.json is the final ring.
    _compare_keyring(keyring, ring, origin, report)
    _verify_checkpoints(
        directory, manifest, leaves, ring, origin, trusted_checkpoint, witnesses, report
    )
    if trust is not None:
        _check_trust(trust, origin, records[0] if records else b"", report)
    _verify_projections(directory, manifest, records, report)
    report.problems.sort()
    return report


def _record(
    position: int,
    data: bytes,
    origin: Any,
    types: dict[str, dict[str, str]],
    personal: dict[str, set[str]],
    later: dict[str, dict[str, Any]],
    report: Report,
) -> dict[str, Any] | None:
    """Sections 1, 2, 5 and 6 for one record; None when it cannot be read as a record."""
    try:
        rec = parse_canonical(data)
    except (ValueError, UnicodeDecodeError) as exc:
        report.add(position, f"record is not canonical JSON: {exc}")
        return None
    if not isinstance(rec, dict) or set(rec) != RECORD_MEMBERS:
        found = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
        report.add(position, f"record members are {found}, want {sorted(RECORD_MEMBERS)}")
        return None
    problems = []
    if rec["format"] != 1 or isinstance(rec["format"], bool):
        problems.append(f"format is {rec['format']!r}, want 1")
    if rec["origin"] != origin:
        problems.append(f"origin is {rec['origin']!r}, not the ledger's {origin!r}")
    if not isinstance(rec["stream"], str) or not STREAM_ID.fullmatch(rec["stream"]):
        problems.append(f"stream {rec['stream']!r} is not a lower-case UUID")
    if (
        not isinstance(rec["version"], int)
        or isinstance(rec["version"], bool)
        or rec["version"] < 1
    ):
        problems.append(f"version {rec['version']!r} is not a positive integer")
    if not isinstance(rec["recorded_at"], str) or not TIME.fullmatch(rec["recorded_at"]):
        problems.append(f"recorded_at {rec['recorded_at']!r} is not in the record time form")
    if rec["prev"] is not None and (
        not isinstance(rec["prev"], str) or not HEX64.fullmatch(rec["prev"])
    ):
        problems.append("prev is neither null nor 64 lower-case hex digits")
    if not isinstance(rec["kid"], str) or not KID.fullmatch(rec["kid"]):
        problems.append(f"kid {rec['kid']!r} is not 16 lower-case hex digits")
    try:
        b64(rec["sig"], 64)
    except ValueError as exc:
        problems.append(f"sig: {exc}")
    if rec["type"] not in types:
        problems.append(f"type {rec['type']!r} is not an event type of section 5")
    if not isinstance(rec["payload"], dict):
        problems.append("payload is not an object")
    if problems:
        for reason in problems:
            report.add(position, reason)
        return None
    payload_problems = _payload(
        rec, types[rec["type"]], personal.get(rec["type"], set()), set(later.get(rec["type"], {}))
    )
    for reason in payload_problems:
        report.add(position, reason)
    return None if payload_problems else rec


def _payload(
    rec: dict[str, Any],
    members: dict[str, str],
    personal: set[str],
    later: set[str] | None = None,
) -> list[str]:
    """Section 5: exactly the members of the type (one added later may be absent), typed."""
    p = rec["payload"]
    want = {"actor", "role", "effective_on", *members}
    absent = want - set(p)
    if set(p) - want or absent - (later or set()):
        return [f"payload members are {sorted(p)}, want {sorted(want)}"]
    members = {name: kind for name, kind in members.items() if name not in absent}
    problems = []
    if not isinstance(p["actor"], str) or not p["actor"]:
        problems.append("actor is not a non-empty string")
    if p["role"] not in ROLES:
        problems.append(f"role {p['role']!r} is not one of {sorted(ROLES)}")
    on = p["effective_on"]
    if on is not None and (
        not isinstance(on, str) or not DATE.fullmatch(on) or on == rec["recorded_at"][:10]
    ):
        problems.append(f"effective_on {on!r} is not a date other than the recording date")
    for name, kind in members.items():
        found = (
            encrypted_problem(p[name], name, rec["type"].startswith("person."))
            if name in personal
            else value_problem(p[name], kind, name)
        )
        if found:
            problems.append(found)
    return problems


def _stream_rules(
    position: int,
    rec: dict[str, Any],
    first_type: dict[str, str],
    references: list[tuple[int, str, str, set[str]]],
    report: Report,
) -> None:
    """Section 5.3: which types start streams, derived stream ids, references."""
    kind, p, stream = rec["type"], rec["payload"], rec["stream"]
    if rec["version"] == 1 and kind not in STARTS:
        report.add(position, f"{kind} cannot start a stream")
    if rec["version"] > 1:
        if kind in STARTS:
            report.add(position, f"{kind} starts a stream but is version {rec['version']}")
        elif kind.split(".")[0] != first_type.get(stream, "").split(".")[0]:
            report.add(position, f"{kind} is written to a {first_type.get(stream)} stream")
    if kind in PREFIX_OF_ISSUE:
        found = certificate_id_problem(p["certificate_id"])
        if found:
            report.add(position, found)
        elif p["certificate_id"][:2] != PREFIX_OF_ISSUE[kind]:
            report.add(
                position,
                f"{kind} issues {p['certificate_id']}, whose prefix is not {PREFIX_OF_ISSUE[kind]}",
            )
        elif stream != certificate_stream(p["certificate_id"]):
            report.add(
                position,
                f"certificate {p['certificate_id']} is on stream {stream}, want {certificate_stream(p['certificate_id'])}",
            )
    if kind == "enrolment.enrolled":
        derived = str(
            uuid.uuid5(LEDGER_NAMESPACE, f"enrolment/{p['programme_id']}/{p['person_id']}")
        )
        if stream != derived:
            report.add(position, f"enrolment is on stream {stream}, want {derived}")
    if kind == "material.catalogue_opened" and stream != CATALOGUE_STREAM:
        report.add(position, f"the catalogue is on stream {stream}, want {CATALOGUE_STREAM}")
    if kind.startswith("keyring.") and stream != KEYRING_STREAM:
        report.add(
            position, f"{kind} is on stream {stream}, want the key-ring stream {KEYRING_STREAM}"
        )
    for name, wanted in STREAM_REFERENCES.items():
        if name in p and p[name] is not None:
            references.append((position, name, p[name], wanted))
    for (event, name), wanted in CERTIFICATE_REFERENCES.items():
        if kind == event:
            found = certificate_id_problem(p[name])
            if found:
                report.add(position, found)
            else:
                references.append((position, name, certificate_stream(p[name]), wanted))


def _course_rules(
    position: int, rec: dict[str, Any], courses: dict[str, set[str]], report: Report
) -> None:
    """Section 5, corrections: a retraction names a course of its own stream, not retracted."""
    kind, p, stream = rec["type"], rec["payload"], rec["stream"]
    if kind == "person.course_delivered":
        courses.setdefault(stream, set()).add(p["delivery_id"])
    elif kind == "person.course_retracted":
        if p["delivery_id"] not in courses.get(stream, set()):
            report.add(
                position,
                f"person.course_retracted names delivery {p['delivery_id']}, which is not a course"
                f" of stream {stream} still counted",
            )
        courses.get(stream, set()).discard(p["delivery_id"])


def _compare_keyring(
    keyring: dict[str, Any], ring: dict[str, RingKey], origin: Any, report: Report
) -> None:
    if set(keyring) != {"origin", "keys"} or not isinstance(keyring.get("keys"), list):
        report.add(-1, 'keyring.json is not {"origin", "keys"}')
        return
    listed: dict[str, Any] = {}
    for entry in keyring["keys"]:
        found = key_entry_problem(entry)
        if found:
            report.add(-1, f"keyring.json: {found}")
            continue
        if entry["kid"] in listed:
            report.add(-1, f"keyring.json lists key {entry['kid']} twice")
        listed[entry["kid"]] = entry
    for kid in sorted(set(listed) - set(ring)):
        report.add(-1, f"keyring.json lists key {kid}, which no key-history record introduced")
    for kid in sorted(set(ring) - set(listed)):
        report.add(
            -1,
            f"keyring.json omits key {kid}, introduced at log position {ring[kid].introduced_at}",
        )
    for kid in sorted(set(ring) & set(listed)):
        if listed[kid] != ring[kid].entry:
            report.add(
                -1,
                f"keyring.json entry of key {kid} differs from the key history: {listed[kid]} != {ring[kid].entry}",
            )


def _verify_checkpoints(
    directory: Path,
    manifest: dict[str, Any],
    leaves: list[bytes],
    ring: dict[str, RingKey],
    origin: Any,
    trusted: str | None,
    witnesses: dict[str, bytes] | None,
    report: Report,
) -> None:
    """Sections 10 and 12.3 steps 2, 4 and 5."""
    lines = _lines(directory / "checkpoints.jsonl", report)
    report.checkpoints = len(lines)
    if manifest.get("checkpoints") != len(lines):
        report.add(
            -1,
            f"manifest counts {manifest.get('checkpoints')} checkpoints, checkpoints.jsonl holds {len(lines)}",
        )
    previous, verified = 0, 0
    for number, line in enumerate(lines, 1):
        try:
            item = json.loads(line.decode("utf-8"), object_pairs_hook=_no_duplicates)
            if not isinstance(item, dict) or set(item) != {"size", "note"}:
                raise ValueError('a line is not {"size", "note"}')
            if type(item["size"]) is not int or not isinstance(item["note"], str):
                raise ValueError("size is not an integer or note not a string")
            note = _open_note(item["note"], ring, origin, witnesses)
        except (ValueError, TypeError) as exc:
            report.add(-1, f"checkpoints.jsonl line {number}: {exc}")
            continue
        if note.size != item["size"]:
            report.add(
                note.size, f"checkpoint listed as size {item['size']} signs size {note.size}"
            )
        if note.size <= previous:
            report.add(note.size, f"checkpoint of size {note.size} follows one of size {previous}")
            continue
        previous = note.size
        if note.size > len(leaves):
            report.add(
                verified,
                f"the log is truncated: a checkpoint of size {note.size} was signed, the bundle holds {len(leaves)} records",
            )
        elif tree_hash(leaves[: note.size]) != note.root:
            report.add(
                verified,
                f"log positions {verified} to {note.size - 1} do not reproduce the root of the checkpoint of size {note.size}",
            )
        else:
            verified = report.verified_size = note.size
    if trusted is not None:
        try:
            note = _open_note(trusted, ring, origin, witnesses)
        except ValueError as exc:
            report.add(0, f"the trusted checkpoint does not verify: {exc}")
            return
        if note.size > len(leaves) or tree_hash(leaves[: note.size]) != note.root:
            report.add(
                min(verified, note.size),
                f"the bundle does not reproduce the trusted checkpoint of size {note.size}",
            )
        if previous < note.size:
            report.add(
                previous,
                f"checkpoint rollback: the newest checkpoint has size {previous}, the trusted one {note.size}",
            )


def _open_note(
    text: str, ring: dict[str, RingKey], origin: Any, witnesses: dict[str, bytes] | None
) -> Note:
    """Section 10: the ledger's signature under a checkpoints key; rule 7 of section 15."""
    note = parse_checkpoint(text)
    if note.origin != origin:
        raise ValueError(f"checkpoint origin {note.origin!r} is not {origin!r}")
    signed = None
    for key in ring.values():
        if key.entry["purpose"] != "checkpoints":
            continue
        wanted = note_key_id(origin, 0x01, key.public)
        for name, kid, raw in note.signatures:
            if name == origin and kid == wanted:
                if len(raw) != 64 or not ed25519_verifies(key.public, raw, note.text):
                    raise ValueError(
                        f"checkpoint signature of key {key.entry['kid']} does not verify"
                    )
                signed = key
    if signed is None:
        raise ValueError("no checkpoints key of the key ring signed the checkpoint")
    if signed.introduced_at >= note.size and note.size > 0:
        raise ValueError(
            f"checkpoint of size {note.size} is signed by key {signed.entry['kid']} introduced at position {signed.introduced_at}"
        )
    found = signed.window_problem(note.signed_at)
    if found:
        raise ValueError(f"checkpoint key: {found}")
    for name, public in (witnesses or {}).items():
        if verify_cosignature(note, name, public) is None:
            raise ValueError(f"witness {name} has not cosigned the checkpoint")
    return note


def _check_trust(trust: bytes, origin: Any, genesis: bytes, report: Report) -> None:
    """Section 16: origin, position 0's leaf hash and the genesis keys equal the trust root."""
    try:
        pinned = parse_canonical(trust.rstrip(b"\n"))
    except ValueError as exc:
        report.add(-1, f"the trust root is not canonical JSON: {exc}")
        return
    if pinned.get("format") != "ledger-trust-root/1":
        report.add(-1, f"the trust root has format {pinned.get('format')!r}")
    if pinned.get("origin") != origin:
        report.add(
            -1, f"the trust root is for origin {pinned.get('origin')!r}, the bundle is {origin!r}"
        )
    if not genesis or pinned.get("genesis") != leaf_hash(genesis).hex():
        report.add(0, "log position 0 is not the genesis the trust root pins")
    elif trust.rstrip(b"\n") != trust_root(origin, genesis):
        report.add(0, "the genesis keys differ from the keys the trust root pins")


# -- section 14: projections ----------------------------------------------------------------


class Tables:
    """Rows of JSON objects under (table, key); a row is kept as its canonical JSON."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        row = self.rows.get((table, key))
        return None if row is None else json.loads(row)

    def put(self, table: str, key: str, row: dict[str, Any]) -> None:
        self.rows[(table, key)] = canonical(row).decode()

    def delete(self, table: str, key: str) -> None:
        self.rows.pop((table, key), None)

    def digest(self) -> str:
        hasher = hashlib.sha256()
        for (table, key), row in sorted(self.rows.items()):
            hasher.update(f"{table}\t{key}\t{row}\n".encode())
        return hasher.hexdigest()


@dataclass(frozen=True)
class Event:
    position: int
    stream: str
    version: int
    type: str
    payload: dict[str, Any]
    on: str  # effective_on, else the date of recorded_at


DECISIONS = {
    "certificate.licence_renewed",
    "certificate.licence_suspended",
    "certificate.licence_reinstated",
    "certificate.licence_scope_reduced",
    "certificate.licence_revoked",
    "certificate.instructor_renewed",
    "certificate.instructor_revoked",
}
KINDS = {
    "certificate.associate_trainer_issued": "associate_trainer",
    "certificate.licence_granted": "licence",
    "certificate.instructor_certified": "instructor",
}


def _facts(e: Event) -> dict[str, Any]:
    """Section 14.2: the facts of a certificate from its issuing event."""
    p = e.payload
    facts: dict[str, Any] = {
        "certificate_id": p["certificate_id"],
        "kind": KINDS[e.type],
        "holder": p["holder_id"],
        "stream": e.stream,
        "issued_on": e.on,
        "valid_from": p.get("valid_from") or e.on,
        "valid_until": p.get("valid_until"),
        "scope": None,
        "suspensions": [],
        "revoked_on": None,
        "revocation_reason": None,
        "decided_by": p["actor"],
        "events": [[e.version, e.position, e.type, e.on]],
    }
    if e.type == "certificate.licence_granted":
        facts["scope"] = {
            "regions": p["regions"],
            "languages": p["languages"],
            "material_version": p["material_version"],
        }
    return facts


def _store(t: Tables, facts: dict[str, Any]) -> None:
    t.put("certificates", facts["certificate_id"], facts)
    t.put("streams", facts["stream"], {"certificate_id": facts["certificate_id"]})


def _decision(t: Tables, e: Event) -> None:
    """Section 14.2: a later decision folded into the facts of its stream's certificate."""
    link = t.get("streams", e.stream)
    facts = None if link is None else t.get("certificates", link["certificate_id"])
    if facts is None:
        return
    p = e.payload
    if e.type in ("certificate.licence_renewed", "certificate.instructor_renewed"):
        facts["valid_until"] = p["valid_until"]
    elif e.type == "certificate.licence_suspended":
        facts["suspensions"].append(
            {"from": e.on, "until": p["until"], "reason": p["reason"], "ended_on": None}
        )
    elif e.type == "certificate.licence_reinstated":
        if facts["suspensions"]:
            facts["suspensions"][-1]["ended_on"] = e.on
    elif e.type == "certificate.licence_scope_reduced":
        facts["scope"]["regions"] = p["regions"]
        facts["scope"]["languages"] = p["languages"]
    elif e.type in ("certificate.licence_revoked", "certificate.instructor_revoked"):
        facts["revoked_on"] = e.on
        facts["revocation_reason"] = p["reason"]
    facts["events"].append([e.version, e.position, e.type, e.on])
    t.put("certificates", facts["certificate_id"], facts)


def _chain(t: Tables, person: Any) -> list[tuple[str, dict[str, Any]]]:
    """Section 14.3: the person's trainers row, then the rows of the people merged into."""
    chain: list[tuple[str, dict[str, Any]]] = []
    while isinstance(person, str) and person not in [key for key, _ in chain]:
        row = t.get("trainers", person)
        if row is None:
            break
        chain.append((person, row))
        person = row["duplicate_of"]
    return chain


COURSES_PER_BLOCK = 32


def _block(key: str, i: int) -> str:
    return key + "/" + str(i).zfill(6)


def course_list(t: Tables, key: str, row: dict[str, Any]) -> list[Any]:
    """Section 14.1, course lists: the blocks' courses, then the row's own."""
    found: list[Any] = []
    for i in range(row["blocks"]):
        found += (t.get("course_blocks", _block(key, i)) or {"deliveries": []})["deliveries"]
    return found + row["deliveries"]


def _add_course(t: Tables, key: str, row: dict[str, Any], course: list[Any]) -> None:
    row["deliveries"] = [*row["deliveries"], course]
    if len(row["deliveries"]) == COURSES_PER_BLOCK:
        t.put("course_blocks", _block(key, row["blocks"]), {"deliveries": row["deliveries"]})
        row["deliveries"], row["blocks"] = [], row["blocks"] + 1


def _set_courses(t: Tables, key: str, row: dict[str, Any], courses: list[Any]) -> None:
    full = len(courses) // COURSES_PER_BLOCK
    for i in range(full):
        chunk = courses[i * COURSES_PER_BLOCK : (i + 1) * COURSES_PER_BLOCK]
        t.put("course_blocks", _block(key, i), {"deliveries": chunk})
    row["deliveries"], row["blocks"] = courses[full * COURSES_PER_BLOCK :], full


def _change_courses(
    t: Tables, key: str, row: dict[str, Any], change: Callable[[list[Any]], list[Any]]
) -> None:
    for i in range(row["blocks"]):
        block = t.get("course_blocks", _block(key, i))
        if block is not None and (changed := change(block["deliveries"])) != block["deliveries"]:
            t.put("course_blocks", _block(key, i), {"deliveries": changed})
    row["deliveries"] = change(row["deliveries"])


def trainer_status(t: Tables, e: Event) -> None:
    """Section 14.3."""
    p = e.payload
    if e.type == "person.registered":
        t.put(
            "trainers",
            e.stream,
            {
                "region": p["region"],
                "country": p["country"],
                "registered": e.position,
                "certificates": [],
                "deliveries": [],
                "blocks": 0,
                "erased": False,
                "duplicate_of": None,
                "merged": [],
            },
        )
    elif e.type == "person.course_delivered":
        for key, row in _chain(t, e.stream):
            course = [e.on, e.position, p["full_programme"], p["delivery_id"], None, None]
            _add_course(t, key, row, course)
            t.put("trainers", key, row)
    elif e.type == "person.course_retracted":

        def retract(courses: list[Any]) -> list[Any]:
            return [
                [*d[:4], e.position, e.on] if d[3] == p["delivery_id"] and d[4] is None else d
                for d in courses
            ]

        for key, row in _chain(t, e.stream):
            _change_courses(t, key, row, retract)
            t.put("trainers", key, row)
    elif e.type == "person.marked_duplicate":
        duplicate = t.get("trainers", e.stream)
        if duplicate is None:
            return
        duplicate["duplicate_of"] = p["duplicate_of"]
        t.put("trainers", e.stream, duplicate)
        for key, kept in _chain(t, p["duplicate_of"]):
            if key == e.stream:
                continue
            for person in [e.stream, *duplicate["merged"]]:
                if person not in kept["merged"]:
                    kept["merged"].append(person)
            for certificate in duplicate["certificates"]:
                if certificate not in kept["certificates"]:
                    kept["certificates"].append(certificate)
            own = course_list(t, key, kept)
            positions = [d[1] for d in own]
            theirs = course_list(t, e.stream, duplicate)
            merged = sorted(own + [d for d in theirs if d[1] not in positions], key=lambda d: d[1])
            _set_courses(t, key, kept, merged)
            t.put("trainers", key, kept)
    elif e.type == "person.personal_data_erased":
        row = t.get("trainers", e.stream)
        if row is not None:
            row["erased"] = True
            t.put("trainers", e.stream, row)
    elif e.type in KINDS:
        facts = _facts(e)
        _store(t, facts)
        for key, row in _chain(t, facts["holder"]):
            if facts["certificate_id"] not in row["certificates"]:
                row["certificates"].append(facts["certificate_id"])
            t.put("trainers", key, row)
    elif e.type in DECISIONS:
        _decision(t, e)


def _counted(t: Tables, e: Event, member: str, full_only: bool) -> list[int]:
    """Section 14.4: the courses a licence or instructor decision counted, by log position."""
    p = e.payload
    if member in p:
        wanted = set(p[member])
        top, climbed = p["holder_id"], {p["holder_id"]}
        while True:
            up = (t.get("courses", top) or {}).get("duplicate_of")
            if up is None or up in climbed:
                break
            top = up
            climbed.add(up)
        positions, queue, visited = [], [top], set()
        while queue:
            person = queue.pop(0)
            if person in visited:
                continue
            visited.add(person)
            row = t.get("courses", person) or {"deliveries": [], "blocks": 0}
            positions += [d[1] for d in course_list(t, person, row) if d[3] in wanted]
            queue += row.get("merged", [])
        return sorted(positions)
    holder = t.get("courses", p["holder_id"]) or {"deliveries": [], "blocks": 0}
    courses = course_list(t, p["holder_id"], holder)
    return [d[1] for d in courses if (d[2] or not full_only) and d[0] <= e.on]


def certificate_register(t: Tables, e: Event) -> None:
    """Section 14.4."""
    p = e.payload
    if e.type == "enrolment.enrolled":
        t.put(
            "enrolments",
            e.stream,
            {
                "programme": p["programme_id"],
                "person": p["person_id"],
                "enrolled": e.position,
                "attendance": {},
                "project": None,
                "certificate": None,
            },
        )
    elif e.type in (
        "enrolment.attendance_recorded",
        "enrolment.attendance_corrected",
        "enrolment.joined_project",
    ):
        row = t.get("enrolments", e.stream)
        if row is None:
            return
        if e.type == "enrolment.joined_project":
            row["project"] = p["project_id"]
        else:
            row["attendance"][str(p["week"])] = [p["attended"], e.position]
        t.put("enrolments", e.stream, row)
        if e.type == "enrolment.attendance_corrected" and row["certificate"] is not None:
            facts = t.get("certificates", row["certificate"])
            if facts is not None:
                facts["evidence"]["corrections"].append(
                    {
                        "position": e.position,
                        "type": e.type,
                        "on": e.on,
                        "week": p["week"],
                        "attended": p["attended"],
                    }
                )
                t.put("certificates", row["certificate"], facts)
    elif e.type == "project.signed_off":
        t.put("sign_offs", e.stream, {"position": e.position, "on": e.on, "by": p["actor"]})
    elif e.type in ("project.returned_for_rework", "project.sign_off_withdrawn"):
        t.delete("sign_offs", e.stream)
    elif e.type == "person.course_delivered":
        row = t.get("courses", e.stream) or {"deliveries": [], "blocks": 0}
        _add_course(t, e.stream, row, [e.on, e.position, p["full_programme"], p["delivery_id"]])
        t.put("courses", e.stream, row)
    elif e.type == "person.course_retracted":
        row = t.get("courses", e.stream)
        if row is not None:
            _change_courses(
                t, e.stream, row, lambda ds: [d for d in ds if d[3] != p["delivery_id"]]
            )
            t.put("courses", e.stream, row)
    elif e.type == "person.marked_duplicate":
        row = t.get("courses", e.stream) or {"deliveries": [], "blocks": 0}
        row["duplicate_of"] = p["duplicate_of"]
        t.put("courses", e.stream, row)
        kept = t.get("courses", p["duplicate_of"]) or {"deliveries": [], "blocks": 0}
        kept["merged"] = [*kept.get("merged", []), e.stream]
        t.put("courses", p["duplicate_of"], kept)
    elif e.type in KINDS:
        facts = _facts(e)
        if e.type == "certificate.associate_trainer_issued":
            enrolment = t.get("enrolments", p["enrolment_id"])
            attendance = {} if enrolment is None else enrolment["attendance"]
            attended = sorted(pos for ok, pos in attendance.values() if ok)
            sign_off = t.get("sign_offs", p["project_id"])
            facts["programme"] = p["programme_id"]
            facts["evidence"] = {
                "enrolment": None if enrolment is None else enrolment["enrolled"],
                "attendance": {"weeks": p["weeks_attended"], "positions": attended},
                "sign_off": None if sign_off is None else sign_off["position"],
                "decision": e.position,
                "corrections": [],
            }
            _store(t, facts)
            if enrolment is not None:
                enrolment["certificate"] = p["certificate_id"]
                t.put("enrolments", p["enrolment_id"], enrolment)
            return
        if e.type == "certificate.licence_granted":
            facts["programme"] = p["programme_id"]
            facts["evidence"] = {
                "qualification": p["qualification_id"],
                "courses": _counted(t, e, "courses", full_only=False),
                "decision": e.position,
                "corrections": [],
            }
        else:
            facts["programme"] = None
            facts["evidence"] = {
                "licence": p["licence_id"],
                "full_programmes": _counted(t, e, "programmes", full_only=True),
                "decision": e.position,
                "corrections": [],
            }
        _store(t, facts)
    elif e.type in DECISIONS:
        _decision(t, e)


def programme_roster(t: Tables, e: Event) -> None:
    """Section 14.5."""
    p = e.payload
    if e.type == "programme.opened":
        t.put(
            "programmes",
            e.stream,
            {
                "title": p["title"],
                "starts_on": p["starts_on"],
                "ends_on": p["ends_on"],
                "material_version": p["material_version"],
                "policy": p["policy"],
                "weeks": {},
            },
        )
    elif e.type == "programme.week_scheduled":
        row = t.get("programmes", e.stream)
        if row is not None:
            row["weeks"][str(p["number"])] = {
                "starts_on": p["starts_on"],
                "ends_on": p["ends_on"],
                "place": p["place"],
                "modules": p["modules"],
            }
            t.put("programmes", e.stream, row)
    elif e.type == "enrolment.enrolled":
        t.put(
            "enrolments",
            e.stream,
            {
                "programme": p["programme_id"],
                "person": p["person_id"],
                "consortium": p["consortium"],
                "active": True,
                "attendance": {},
                "project": None,
                "certificate": None,
                "corrections": [],
            },
        )
    elif e.type.startswith("enrolment."):
        row = t.get("enrolments", e.stream)
        if row is not None:
            if e.type == "enrolment.attendance_recorded":
                row["attendance"][str(p["week"])] = p["attended"]
            elif e.type == "enrolment.attendance_corrected":
                row["attendance"][str(p["week"])] = p["attended"]
                row["corrections"].append([p["week"], p["attended"], e.position, e.on])
            elif e.type == "enrolment.withdrawn":
                row["active"] = False
            elif e.type == "enrolment.joined_project":
                row["project"] = p["project_id"]
            elif e.type == "enrolment.qualification_awarded":
                row["certificate"] = p["certificate_id"]
            t.put("enrolments", e.stream, row)
    elif e.type == "project.registered":
        t.put(
            "projects",
            e.stream,
            {
                "programme": p["programme_id"],
                "cluster_initiative": p["cluster_initiative"],
                "sector": p["sector"],
                "region": p["region"],
                "country": p["country"],
                "members": [],
                "tutor": None,
                "status": "open",
                "signed_off_by": None,
                "signed_off_on": None,
                "returned_on": None,
                "withdrawn_on": None,
            },
        )
    elif e.type.startswith("project."):
        row = t.get("projects", e.stream)
        if row is not None:
            if e.type == "project.team_member_assigned":
                row["members"].append(p["person_id"])
            elif e.type == "project.tutor_assigned":
                row["tutor"] = p["person_id"]
            elif e.type == "project.signed_off":
                row.update(status="signed_off", signed_off_by=p["actor"], signed_off_on=e.on)
            elif e.type == "project.returned_for_rework":
                row.update(
                    status="returned_for_rework",
                    signed_off_by=None,
                    signed_off_on=None,
                    returned_on=e.on,
                )
            elif e.type == "project.sign_off_withdrawn":
                row.update(status="open", signed_off_by=None, signed_off_on=None, withdrawn_on=e.on)
            t.put("projects", e.stream, row)


def public_register(t: Tables, e: Event) -> None:
    """Section 14.6."""
    p = e.payload
    if e.type == "person.registered":
        t.put(
            "holders",
            e.stream,
            {"region": p["region"], "country": p["country"], "listed": False, "name_hidden": False},
        )
    elif e.type in (
        "person.public_listing_changed",
        "person.name_publication_changed",
        "person.personal_data_erased",
    ):
        row = t.get("holders", e.stream)
        if row is not None:
            if e.type == "person.public_listing_changed":
                row["listed"] = p["listed"]
            elif e.type == "person.name_publication_changed":
                row["name_hidden"] = p["hidden"]
            else:
                row.update(listed=False, erased=True)
            t.put("holders", e.stream, row)
    elif e.type in KINDS:
        facts = _facts(e)
        holder = t.get("holders", facts["holder"]) or {"region": "", "country": ""}
        facts["region"], facts["country"] = holder["region"], holder["country"]
        _store(t, facts)
    elif e.type in DECISIONS:
        _decision(t, e)


PROJECTIONS: dict[str, tuple[int, Callable[[Tables, Event], None]]] = {
    "trainer_status": (4, trainer_status),
    "certificate_register": (5, certificate_register),
    "programme_roster": (2, programme_roster),
    "public_register": (1, public_register),
}


def replay(records: Iterable[bytes], names: Iterable[str]) -> dict[str, str]:
    """Section 14.1: apply each record, in log order, to every named projection; the digests."""
    tables = {name: Tables() for name in names}
    for position, data in enumerate(records):
        rec = json.loads(data)
        p = rec["payload"]
        event = Event(
            position,
            rec["stream"],
            rec["version"],
            rec["type"],
            p,
            p.get("effective_on") or rec["recorded_at"][:10],
        )
        for name, view in tables.items():
            PROJECTIONS[name][1](view, event)
    return {name: view.digest() for name, view in tables.items()}


def _verify_projections(
    directory: Path, manifest: dict[str, Any], records: list[bytes], report: Report
) -> None:
    path = directory / "projections.json"
    if manifest.get("projections") is not path.is_file():
        report.add(
            -1,
            f"manifest says projections is {manifest.get('projections')}, projections.json {'is' if path.is_file() else 'is not'} present",
        )
    if not path.is_file():
        return
    exported = _json_file(path, report) or {}
    for name, entry in sorted(exported.items()):
        if not isinstance(entry, dict) or set(entry) != {"version", "digest", "position"}:
            report.add(-1, f"projections.json entry {name} is not {{version, digest, position}}")
            continue
        position = entry["position"]
        if name not in PROJECTIONS or PROJECTIONS[name][0] != entry["version"]:
            report.projections[name] = "unknown"
            report.add(
                len(records),
                f"projection {name} version {entry['version']} is not specified by the document",
            )
        elif not isinstance(position, int) or not 0 <= position <= len(records):
            report.add(
                len(records),
                f"projection {name} covers {position} records, the bundle holds {len(records)}",
            )
        else:
            got = replay(records[:position], [name])[name]
            report.projections[name] = got
            if got != entry["digest"]:
                report.add(
                    position,
                    f"projection {name}: digest replayed from the first {position} records is {got}, projections.json says {entry['digest']}",
                )
