"""The verification page for people: plain HTML and CSS, no JavaScript, accessible, in the
reader's language.

The first screen is for an employer: who issued the certificate, what it is, its status said in
words, large, with a symbol and a colour (never colour alone) and the date it took effect, one
sentence on what it allows and since when, the documents to take away, and a box to check
another id. The technical proof (log positions, checkpoint, signatures, trust root) is folded
under "How this is proven" (`page_proof`). Every form field has a label; colours meet WCAG AA
contrast on white; every value from a record goes through `show` (isolated for direction,
controls shown, mixed alphabets flagged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from ledger.api.display import show
from ledger.api.language import Choice
from ledger.api.page_links import documents
from ledger.api.page_proof import proven, tag
from ledger.api.page_words import (
    ISSUER,
    SYMBOLS,
    Gettext,
    as_of_line,
    fill,
    gettext_for,
    headline,
    holder_html,
    status_detail,
    summary,
    title,
)

KINDS = {
    "associate_trainer": "Associate Trainer",
    "licence": "Licensed Trainer",
    "instructor": "Instructor Certification",
}
"""English names of the kinds, for the public register (which is in English)."""
EXAMPLE_ID = "LT-7KQ2-M9XD-3FHW"
CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff;"
    "line-height:1.45}"
    "main{max-width:46rem;margin:0 auto;padding:1rem 1.5rem 2rem}"
    "h1{font-size:1.7rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin-top:2rem}"
    "h3{font-size:1rem;margin-top:1.2rem}"
    ".issuer{font-weight:700;color:#30363d;margin:.5rem 0 0}"
    ".status{border:4px solid;border-radius:.6rem;padding:.6rem 1rem;margin:0 0 1rem}"
    ".status .word{display:block;font-size:2.4rem;font-weight:800;line-height:1.15}"
    ".status .when{display:block;font-size:1.15rem;font-weight:600;margin-top:.2rem}"
    ".status .asof{display:block;color:#30363d;margin-top:.3rem}"
    ".summary{font-size:1.15rem}.nowrap{white-space:nowrap}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{font-weight:700}"
    "dd{margin:0}"
    "ol,ul{padding-left:1.2rem}li{margin:.3rem 0}"
    ".proof{margin-top:2rem;border-top:1px solid #d0d7de;padding-top:.8rem;font-size:.95rem;"
    "color:#30363d}"
    ".proof summary{font-weight:700;font-size:1.1rem;color:#1b1f24;cursor:pointer}"
    ".proof code{word-break:break-all}.where{color:#57606a}"
    "label{font-weight:700;margin-right:.5rem}input,button{font-size:1rem;padding:.3rem .6rem}"
    "form{margin:.6rem 0}"
    "a{color:#0b4fa8}.flag{color:#8a4b00;font-weight:700}"
    ".control{font-family:monospace;background:#fff3cd;color:#1b1f24}"
    "nav.languages ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;"
    "gap:.2rem .9rem;justify-content:flex-end}"
    "nav.languages a[aria-current]{font-weight:700;color:#1b1f24;text-decoration:none}"
)


@dataclass(frozen=True)
class View:
    """What a page needs besides the answer: its language and switch, this ledger's public
    address and trust root fingerprint, and whether it answers for today (`current`)."""

    language: str = "en"
    languages: Sequence[Choice] = field(default_factory=tuple)
    public_url: str = ""
    fingerprint: str | None = None
    current: bool = True


def page(title: str, body: str, language: str = "en", languages: Sequence[Choice] = ()) -> str:
    return (
        f"<!doctype html><html lang={escape(language)}><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<main>{switch_html(languages, language)}{body}</main></body></html>"
    )


def switch_html(languages: Sequence[Choice], language: str) -> str:
    """The visible language switch: each language named in itself, the current one marked."""
    if not languages:
        return ""
    _ = gettext_for(language)
    label = escape(_("Language"))
    links = "".join(
        f"<li><a href='{escape(c.href)}' lang={c.code} hreflang={c.code}"
        + (" aria-current=true" if c.current else "")
        + f">{escape(c.name)}</a></li>"
        for c in languages
    )
    return f"<nav class=languages aria-label='{label}'><ul>{links}</ul></nav>"


def verification_page(answer: Mapping[str, Any], view: View | None = None) -> str:
    view = view or View()
    language = view.language
    _ = gettext_for(language)
    status = str(answer["status"])
    kind = answer.get("kind")
    recorded = kind is not None
    colour, symbol = SYMBOLS.get(status, SYMBOLS["unknown"])
    word = headline(kind, status, recorded, _)
    detail = status_detail(answer, language, _)
    certificate_id = str(answer["certificate_id"])
    banner = (
        f"<p class=status role=status style='color:{colour};border-color:{colour}'>"
        f"<span class=word><span aria-hidden=true>{symbol}</span> {escape(word)}</span>"
        + (f"<span class=when>{detail}</span>" if detail else "")
        + f"<span class=asof>{as_of_line(answer, language, _)}</span></p>"
    )
    sentence = summary(answer, language, _)
    issuer = fill(_("Issued by the %(issuer)s"), issuer=escape(ISSUER))
    body = [
        f"<p class=issuer>{issuer}</p>",
        tag("h1", title(kind, _)),
        banner,
        f"<p class=summary>{sentence}</p>" if sentence else "",
        reason(answer, _),
        facts(answer, _),
    ]
    if recorded:
        body.append(tag("h2", _("Documents")))
        body.append(documents(answer, language, view.public_url, view.current, _))
    body.append(date_form(answer, certificate_id, _))
    body.append(check_form(_, ""))
    body.append(proven(answer, view.fingerprint, language, _))
    heading = _("%(status)s: %(id)s") % {"status": word, "id": certificate_id}
    return page(heading, "".join(body), language, view.languages)


def reason(answer: Mapping[str, Any], _: Gettext) -> str:
    """Why a certificate was suspended or revoked, as the Foundation recorded it (record text,
    in the language it was written in)."""
    if answer["status"] not in ("suspended", "revoked") or not answer.get("reason"):
        return ""
    said = fill(_("Reason recorded: %(reason)s"), reason=show(str(answer["reason"])))
    return f"<p>{said}</p>"


def facts(answer: Mapping[str, Any], _: Gettext) -> str:
    certificate_id = show(str(answer["certificate_id"]))
    rows = [(_("Certificate id"), f"<span class=nowrap>{certificate_id}</span>")]
    if answer.get("kind") is not None:
        rows.append((_("Holder"), holder_html(answer, _)))
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def date_form(answer: Mapping[str, Any], certificate_id: str, _: Gettext) -> str:
    action = escape(f"/verify/{quote(certificate_id, safe='')}")
    label = escape(_("Status on another date"))
    button = escape(_("Show"))
    return (
        f"<form method=get action='{action}'><label for=as_of>{label}</label>"
        f"<input id=as_of name=as_of type=date value='{escape(str(answer['as_of']))}'>"
        f" <button type=submit>{button}</button></form>"
    )


def check_form(_: Gettext, typed: str) -> str:
    """A box to check another id: the front door's check (`/check`) forgives typing errors
    and leads to that certificate's page."""
    heading = tag("h2", _("Check another certificate"))
    label = escape(_("Certificate id"))
    button = escape(_("Check"))
    hint = fill(_("For example %(example)s"), example=escape(EXAMPLE_ID))
    return (
        f"{heading}<form method=get action='/check'>"
        f"<label for=certificate_id>{label}</label>"
        "<input id=certificate_id name=certificate_id type=text spellcheck=false"
        f" autocomplete=off aria-describedby=certificate_id_hint value='{escape(typed)}'>"
        f" <button type=submit>{button}</button>"
        f"<br><span id=certificate_id_hint class=where>{hint}</span></form>"
    )


def unknown_page(certificate_id: str, view: View | None = None) -> str:
    view = view or View()
    _ = gettext_for(view.language)
    colour, symbol = SYMBOLS["unknown"]
    issuer = fill(_("Certificates of the %(issuer)s"), issuer=escape(ISSUER))
    word = escape(_("Unknown certificate"))
    explained = fill(
        _(
            "%(id)s is not a certificate of this ledger. Check the characters:"
            " certificate ids look like %(example)s."
        ),
        id=show(certificate_id),
        example=escape(EXAMPLE_ID),
    )
    body = (
        f"<p class=issuer>{issuer}</p>"
        + tag("h1", _("No such certificate"))
        + f"<p class=status role=status style='color:{colour};border-color:{colour}'>"
        f"<span class=word><span aria-hidden=true>{symbol}</span> {word}</span></p>"
        f"<p>{explained}</p>" + check_form(_, certificate_id[:64])
    )
    return page(_("No such certificate"), body, view.language, view.languages)
