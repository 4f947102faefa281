"""Tokens that tie a posted form to the browser it was served to (cross-site request forgery).

A signed-in session's token is derived from the session id (HMAC), so it is per session, needs
no storage and cannot be computed from anything the database holds (it keeps only the id's
hash). Before sign-in (the sign-in and invitation forms) the same derivation runs over a random
value in its own cookie: a double-submit token. Tokens are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"


def token_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"ledger console csrf v1", hashlib.sha256).hexdigest()


def matches(secret: str | None, posted: str | None) -> bool:
    """Whether `posted` is the token of `secret`; False when either is missing."""
    if not secret or not posted:
        return False
    return hmac.compare_digest(token_for(secret).encode(), posted.encode())
