"""RFC 8785 (JSON Canonicalization Scheme) for the values a ledger record may hold.

Records hold objects with string keys, arrays, strings, booleans, null and integers in the
I-JSON safe range. Floating-point numbers are refused: without them the canonical form is
also what `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
produces for ASCII keys, so a verifier in any language needs no special number formatting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1

_encode_string = json.encoder.py_encode_basestring  # type: ignore[attr-defined]
encode_string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
"""A JSON string as RFC 8785 writes it (quotes, backslash and control characters escaped,
nothing else): the C encoder's own, where the module has it."""


class CanonicalError(ValueError):
    """A value cannot be put into canonical form (a float, a non-string key, a lone surrogate)."""


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of `value`."""
    if _simple(value):
        # Integers in range, no floats, ASCII keys: the C encoder produces exactly JCS.
        try:
            return _dumps(value).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalError(f"string is not valid Unicode (lone surrogate): {exc}") from exc
    parts: list[str] = []
    _write(value, parts, "$")
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError(f"string is not valid Unicode (lone surrogate): {exc}") from exc


_dumps = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def _simple(value: Any) -> bool:
    """True when `value` holds only what the fast encoder writes exactly as RFC 8785 does."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _simple(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_simple(item) for item in value)
    return False


def _utf16_key(key: str) -> bytes:
    # RFC 8785 section 3.2.3: object members are sorted by the UTF-16 code units of their names.
    return key.encode("utf-16-be", errors="surrogatepass")


def _write(value: Any, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is outside the I-JSON safe range")
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, float):
        raise CanonicalError(f"{path}: floating-point numbers are not allowed in records")
    elif isinstance(value, Mapping):
        items = []
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            items.append(key)
        items.sort(key=_utf16_key)
        out.append("{")
        for i, key in enumerate(items):
            if i:
                out.append(",")
            out.append(_encode_string(key))
            out.append(":")
            _write(value[key], out, f"{path}.{key}")
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def parse_canonical(data: bytes, *, strict: bool = True) -> Any:
    """Parse `data` as JSON without floats; with `strict`, insist on canonical form too."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_refuse_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CanonicalError(f"not valid UTF-8 JSON: {exc}") from exc
    if strict and canonical_bytes(value) != data:
        raise CanonicalError("bytes are valid JSON but not in canonical (RFC 8785) form")
    return value


def _refuse_float(text: str) -> float:
    raise CanonicalError(f"floating-point number {text} is not allowed in records")
