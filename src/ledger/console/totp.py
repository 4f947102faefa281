"""The optional second factor: TOTP (RFC 6238, 6 digits every 30 seconds), as authenticator
apps implement it. The shared secret is stored only wrapped (AES-GCM) under a key derived by
HKDF from the ledger's person key-encryption key, bound to the account's staff id; a code is
accepted at most once (its time step is remembered), within one step of clock drift."""

from __future__ import annotations

import base64
import os
from datetime import datetime

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.config import Settings
from ledger.integrity.keyring import KeyDirectory

PERSON_KEK = "person-kek"
ISSUER = "ledger"
STEP = 30
WRAP_INFO = b"ledger console totp secret v1"


class SecretBox:
    """Wraps and unwraps TOTP secrets; each is bound to its account (staff id as associated
    data), so a wrapped secret copied onto another account does not open."""

    def __init__(self, kek: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=WRAP_INFO).derive(kek)
        self._aead = AESGCM(key)

    @classmethod
    def of(cls, settings: Settings) -> SecretBox:
        return cls(KeyDirectory(settings.keys_dir).secret(PERSON_KEK))

    def wrap(self, secret: str, staff_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), staff_id.encode())
        return base64.b64encode(nonce + sealed).decode()

    def unwrap(self, wrapped: str, staff_id: str) -> str:
        data = base64.b64decode(wrapped)
        return self._aead.decrypt(data[:12], data[12:], staff_id.encode()).decode()


def new_secret() -> str:
    """A fresh base32 secret (160 bits), as authenticator apps expect."""
    return pyotp.random_base32(32)


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step whose code `code` is (now, or one step either side for clock drift), if
    it is later than `after` (the step last accepted: a code works once); otherwise None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP)
    current = step_of(now)
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator shows at `moment` (for tests and the enrolment check)."""
    return pyotp.TOTP(secret, interval=STEP).generate_otp(step_of(moment))


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(secret: str, username: str) -> str:
    """The enrolment QR code as inline SVG (no script, no external image)."""
    code = segno.make(provisioning_uri(secret, username), error="m")
    svg: str = code.svg_inline(scale=4, title="QR code of the second factor's secret")
    return svg
