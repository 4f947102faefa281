"""Multibase (base58btc `z`, base64url `u`) and Multikey encodings of Ed25519 keys."""

from __future__ import annotations

import base64

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_PUBLIC = b"\xed\x01"  # multicodec ed25519-pub, varint
ED25519_PRIVATE = b"\x80\x26"  # multicodec ed25519-priv, varint


class MultibaseError(ValueError):
    pass


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = ALPHABET[remainder] + encoded
    leading = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading + encoded


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = ALPHABET.find(char)
        if index < 0:
            raise MultibaseError(f"{char!r} is not a base58btc character")
        number = number * 58 + index
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * leading + body


def encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + base58btc_encode(data)
    if base == "u":
        return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    raise MultibaseError(f"unsupported multibase {base!r}")


def decode(text: str) -> bytes:
    if text.startswith("z"):
        return base58btc_decode(text[1:])
    if text.startswith("u"):
        body = text[1:]
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError as exc:
            raise MultibaseError(f"not base64url: {exc}") from exc
    raise MultibaseError(f"unsupported multibase prefix {text[:1]!r}")


def public_multikey(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise MultibaseError("an Ed25519 public key is 32 bytes")
    return encode(ED25519_PUBLIC + public_key)


def public_key_from_multikey(multikey: str) -> bytes:
    raw = decode(multikey)
    if not raw.startswith(ED25519_PUBLIC) or len(raw) != 34:
        raise MultibaseError("not an Ed25519 Multikey (multicodec 0xed01, 32 bytes)")
    return raw[2:]


def private_key_from_multikey(multikey: str) -> bytes:
    raw = decode(multikey)
    if not raw.startswith(ED25519_PRIVATE) or len(raw) != 34:
        raise MultibaseError("not an Ed25519 private Multikey (multicodec 0x8026, 32 bytes)")
    return raw[2:]
