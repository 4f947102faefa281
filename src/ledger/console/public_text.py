"""The words the routes put on the public pages (the front door, signing in, the second factor,
invitations): messages of the "web" gettext domain, written in English here and marked with
`N_` so that the catalogue test finds them, then said in the reader's language (`say`).

Some of them are copies of messages raised in English by modules that know nothing of
languages (an expired invitation, a password too short, an expired form): `known` recognises
such a message and says it in the reader's language; a message it does not recognise is shown
as it came. A test holds the copies to the originals.

The sign-in refusals say the same thing in every language: the username or the password is
wrong, or the account is locked for a while, never which of these it is."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_timedelta

from ledger.console.accounts import MAX_PASSWORD, MAX_USERNAME, MIN_PASSWORD
from ledger.domain.actors import Role
from ledger.i18n import translation


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# -- the front door --------------------------------------------------------------------------
CHECK_TITLE = N_("Check a certificate")
NO_ID = N_("Enter a certificate id")
TOO_LONG = N_("Enter a certificate id, like %(example)s")
TYPING_ERROR = N_(
    "This certificate id has a typing error: compare each character with the certificate"
)
NOT_AN_ID = N_(
    "Enter a certificate id like %(example)s: two letters, then twelve letters or digits"
)
UNKNOWN_ID = N_("There is no certificate %(id)s in this ledger: check the id")

# -- signing in ------------------------------------------------------------------------------
SIGN_IN_TITLE = N_("Sign in")
CODE_TITLE = N_("Enter the code from your authenticator app")
WRONG = N_("The username or password is wrong, or the account is locked for a while")
WRONG_CODE = N_("The code is wrong or has been used, or the account is locked for a while")
TOO_MANY = N_("Too many failed sign-ins from your network; try again in %(wait)s")
SIGNED_OUT = N_("You have signed out.")
READY = N_("Your account is ready. Sign in with your username and password.")
TIMED_OUT = N_("You were signed out after a time without activity. Sign in again.")
EXPIRED_FORM = N_(
    "This form has expired or did not come from this console. Nothing was saved."
    " Go back, reload the page and try again."
)
"""As `ledger.console.session.EXPIRED_FORM`."""

# -- invitations -----------------------------------------------------------------------------
INVITATION_TITLE = N_("Set up your staff account")
NOT_SAME = N_("The two passwords are not the same")
CODE_MISMATCH = N_(
    "The code does not match: check the app shows this account, and enter the code it shows"
    " now (or leave the box empty to set up no second factor)"
)
INVITATION_CLOSED = (
    N_("This invitation link is not valid"),
    N_("This invitation link has been used already"),
    N_("This invitation link has expired; ask for a new one"),
)
"""As `ledger.console.invitations` raises them."""
ACCOUNT_PROBLEMS = (
    N_("Enter a username"),
    N_("The password must not be the username"),
    N_("That username is taken; choose another"),
)
"""As `ledger.console.accounts` raises them, without a number in them."""
USERNAME_LENGTH = N_("A username is 1 to %(most)s characters, without spaces")
SHORT_PASSWORD = N_("Enter a password of at least %(least)s characters")
LONG_PASSWORD = N_("A password is at most %(most)s characters")
ROLE_NAMES = {
    Role.ADMIN: N_("administrator"),
    Role.REGISTRAR: N_("registrar"),
    Role.TUTOR: N_("tutor"),
    Role.COMMITTEE: N_("member of the certification committee"),
    Role.AUDITOR: N_("auditor"),
}
"""A role as an invitation names it."""

_RAISED: dict[str, tuple[str, dict[str, object]]] = {
    message: (message, {}) for message in (EXPIRED_FORM, *INVITATION_CLOSED, *ACCOUNT_PROBLEMS)
}
_FORMATTED: tuple[tuple[str, dict[str, object]], ...] = (
    (USERNAME_LENGTH, {"most": MAX_USERNAME}),
    (SHORT_PASSWORD, {"least": MIN_PASSWORD}),
    (LONG_PASSWORD, {"most": MAX_PASSWORD}),
)
_RAISED.update({message % values: (message, values) for message, values in _FORMATTED})


def say(language: str, message: str, **values: object) -> str:
    """`message` (an English msgid of the "web" domain) in `language`, its `%(name)s`
    placeholders filled with `values`."""
    text = translation(language, "web").gettext(message)
    return text % values if values else text


def known(language: str, english: str) -> str:
    """A message raised in English elsewhere, in `language` when it is one of those above;
    otherwise as it is."""
    message, values = _RAISED.get(english, (english, {}))
    return say(language, message, **values)


def wait_of(language: str, seconds: int) -> str:
    """How long to wait, in words of `language` ("45 seconds", "2 Minuten")."""
    return str(
        format_timedelta(timedelta(seconds=seconds), threshold=1, locale=language, format="long")
    )


def role_name(language: str, role: Role) -> str:
    return say(language, ROLE_NAMES.get(role, str(role)))
