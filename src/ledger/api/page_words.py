"""What a certificate says, in plain words for an employer: its title, its status with the
date it took effect, and one sentence on what it allows and since when.

Every message is an English gettext `msgid` of the `verify` domain, written out literally
inside `_()` so that the catalogue test finds it; values go in as `%(name)s` placeholders.
The message is escaped first and the values (already HTML, isolated by `show`) filled in
after, so a translation can never inject markup and a record's text can never break out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

from ledger.api.display import show
from ledger.i18n import long_day, translation

Gettext = Callable[[str], str]
ISSUER = "European Foundation for Cluster Excellence"
"""A proper name: the same in every language (and as the credential names its issuer)."""
SYMBOLS = {
    "valid": ("#0a6b2d", "\u2713"),
    "suspended": ("#8a4b00", "!"),
    "revoked": ("#a4161a", "\u00d7"),
    "expired": ("#3d4451", "\u2013"),
    "unknown": ("#3d4451", "?"),
}
"""Colour (WCAG AA on white) and symbol of each status: never colour alone, always words."""


def gettext_for(language: str) -> Gettext:
    return translation(language, "verify").gettext


def fill(template: str, **values: str) -> str:
    """A translated message as HTML: the message escaped, then the values (HTML) put in."""
    return escape(template, quote=False) % values


def title(kind: str | None, _: Gettext) -> str:
    """The certificate's title, as its holder would name it."""
    if kind == "licence":
        return _("Licensed Trainer in Cluster Management Excellence")
    if kind == "associate_trainer":
        return _("Associate Trainer in Cluster Management Excellence")
    if kind == "instructor":
        return _("Instructor in Cluster Management Excellence")
    return _("Certificate")


def headline(kind: str | None, status: str, recorded: bool, _: Gettext) -> str:
    """The status in a few words, large: the kind of certificate named so that each language
    can make the adjective agree with it."""
    if not recorded:
        return _("Certificate not yet recorded")
    words: dict[str | None, dict[str, str]] = {
        "licence": {
            "valid": _("Valid licence"),
            "suspended": _("Suspended licence"),
            "revoked": _("Revoked licence"),
            "expired": _("Expired licence"),
            "unknown": _("Licence not yet valid"),
        },
        "associate_trainer": {
            "valid": _("Valid qualification"),
            "unknown": _("Qualification not yet valid"),
        },
        "instructor": {
            "valid": _("Valid certification"),
            "revoked": _("Revoked certification"),
            "expired": _("Expired certification"),
            "unknown": _("Certification not yet valid"),
        },
    }
    generic = {
        "valid": _("Valid certificate"),
        "suspended": _("Suspended certificate"),
        "revoked": _("Revoked certificate"),
        "expired": _("Expired certificate"),
        "unknown": _("Certificate not yet valid"),
    }
    return words.get(kind, {}).get(status) or generic.get(status) or _("Unknown certificate")


def status_detail(answer: Mapping[str, Any], language: str, _: Gettext) -> str:
    """Since when the status holds (HTML), or "" when the headline says it all."""
    status = answer["status"]
    since = escape(long_day(answer.get("since"), language))
    if status == "suspended":
        until = escape(long_day(answer.get("until"), language)) or "\u2014"
        return fill(_("Suspended from %(start)s until %(end)s."), start=since, end=until)
    if status == "revoked":
        return fill(_("Revoked on %(day)s."), day=since)
    if status == "expired":
        return fill(_("Expired on %(day)s."), day=since)
    if status == "unknown" and answer.get("kind") is None:
        return fill(
            _("The ledger did not yet hold this certificate at record %(record)s."),
            record=escape(format_decimal(answer.get("known_at") or 0, locale=language)),
        )
    if status == "unknown":
        return fill(
            _("Valid from %(day)s."), day=escape(long_day(answer.get("valid_from"), language))
        )
    if answer.get("valid_until"):
        return fill(
            _("Valid until %(day)s."), day=escape(long_day(answer["valid_until"], language))
        )
    return ""


def as_of_line(answer: Mapping[str, Any], language: str, _: Gettext) -> str:
    """The date the status is for, and as the ledger knew it when `known_at` is given."""
    day = escape(long_day(answer["as_of"], language))
    known_at = answer.get("known_at")
    if known_at is None:
        return fill(_("Status on %(day)s."), day=day)
    record = escape(format_decimal(known_at, locale=language))
    return fill(
        _("Status on %(day)s, as the ledger knew it at record %(record)s."),
        day=day,
        record=record,
    )


def holder_html(answer: Mapping[str, Any], _: Gettext) -> str:
    holder = answer.get("holder")
    if holder:
        return show(str(holder))
    if answer.get("holder_name_state") == "not-available-here":  # restored without data keys
        return escape(_("The holder (name not available here)"), quote=False)
    return escape(_("The holder (name not shown at their request)"), quote=False)


def summary(answer: Mapping[str, Any], language: str, _: Gettext) -> str:
    """One sentence: who may do what, where, in which languages, since when and until when
    (HTML), or "" when the ledger does not yet know the certificate."""
    kind = answer.get("kind")
    holder = holder_html(answer, _)
    start = escape(long_day(answer.get("valid_from"), language))
    end = escape(long_day(answer.get("valid_until"), language)) or "\u2014"
    valid = answer["status"] == "valid"
    if kind == "licence":
        scope = answer.get("scope") or {}
        values = {
            "holder": holder,
            "regions": format_list(
                [show(str(r)) for r in scope.get("regions", [])], locale=language
            )
            or "\u2014",
            "languages": escape(spoken(scope.get("languages", []), language)) or "\u2014",
            "material": "<span class=nowrap>"
            + show(str(scope.get("material_version", "\u2014")))
            + "</span>",
            "start": start,
            "end": end,
        }
        if valid:
            return fill(
                _(
                    "%(holder)s may run the Foundation's courses for cluster managers in"
                    " %(regions)s, in %(languages)s, with training material %(material)s,"
                    " since %(start)s, until %(end)s."
                ),
                **values,
            )
        return fill(
            _(
                "%(holder)s was granted a licence to run the Foundation's courses for cluster"
                " managers in %(regions)s, in %(languages)s, with training material"
                " %(material)s, from %(start)s until %(end)s."
            ),
            **values,
        )
    if kind == "instructor":
        if valid:
            return fill(
                _(
                    "%(holder)s is certified to deliver the Foundation's train-the-trainers"
                    " programme to cluster managers, since %(start)s, until %(end)s."
                ),
                holder=holder,
                start=start,
                end=end,
            )
        return fill(
            _(
                "%(holder)s was certified to deliver the Foundation's train-the-trainers"
                " programme to cluster managers from %(start)s until %(end)s."
            ),
            holder=holder,
            start=start,
            end=end,
        )
    if kind == "associate_trainer":
        return fill(
            _(
                "%(holder)s completed the Foundation's train-the-trainers programme in Cluster"
                " Management Excellence and qualified as Associate Trainer on %(start)s."
                " This qualification does not expire."
            ),
            holder=holder,
            start=start,
        )
    return ""


def spoken(codes: list[str], language: str) -> str:
    """Language codes of a licence's scope ("sk", "en") named in the page's language."""
    names = Locale.parse(language).languages
    return format_list([names.get(code, code) for code in codes], locale=language)
