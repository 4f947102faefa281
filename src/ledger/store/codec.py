"""Event payloads as plain JSON, typed by the event class's field annotations.

No type tags: a date is "YYYY-MM-DD", a tuple is an array. The event class says how to read
each field back, so payloads stay readable for auditors in any language.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from typing import Any

BASE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


class CodecError(ValueError):
    pass


_FIELDS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def payload_fields(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    """The payload fields of an event class with their types, in declaration order."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = tuple(
            (f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name not in BASE_FIELDS
        )
        _FIELDS[cls] = found
    return found


def encode_payload(event: object) -> dict[str, Any]:
    return {
        name: _encode(getattr(event, name), hint, name)
        for name, hint in payload_fields(type(event))
    }


def decode_payload(cls: type[Any], payload: dict[str, Any]) -> dict[str, Any]:
    fields = payload_fields(cls)
    names = {name for name, _ in fields}
    later = added_later(cls)
    if not set(payload) <= names or not names - later <= set(payload):
        raise CodecError(
            f"payload fields {sorted(payload)} do not match {cls.__name__} fields {sorted(names)}"
        )
    # A member added to the type later is absent from older records: it reads as the
    # class's default (docs/ledger-format.md, section 5).
    return {name: _decode(payload[name], hint, name) for name, hint in fields if name in payload}


def added_later(cls: type[Any]) -> set[str]:
    """The members of an event type that have a default: those added after records of the
    type were first written, which older records lack."""
    return {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }


def _encode(value: Any, hint: Any, path: str) -> Any:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(item, Any, path) for item in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, Any, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, str | int | bool):
        return value
    raise CodecError(f"{path}: cannot encode {type(value).__name__}")


def _decode(value: Any, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode(value, options[0], path)
    if hint is date:
        if not isinstance(value, str):
            raise CodecError(f"{path}: expected a date string")
        return date.fromisoformat(value)
    if origin is tuple:
        if not isinstance(value, list):
            raise CodecError(f"{path}: expected an array")
        (item_hint, *_) = typing.get_args(hint)
        return tuple(_decode(v, item_hint, path) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise CodecError(f"{path}: expected an object")
        return dict(value)
    if hint in (str, int, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise CodecError(f"{path}: expected {hint.__name__}")
        return value
    if hint is Any:
        return value
    raise CodecError(f"{path}: unsupported field type {hint!r}")
