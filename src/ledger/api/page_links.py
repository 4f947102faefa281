"""Where a certificate can be taken from its verification page: the printable PDF, the signed
credential (JSON and VC-JWT), the baked badge images, and LinkedIn's "Add to profile".

The LinkedIn link is LinkedIn's documented add-to-profile address for a certification
(`https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME` with `name`,
`organizationName` or `organizationId`, `issueYear`, `issueMonth`, `expirationYear`,
`expirationMonth`, `certUrl`, `certId`). The Foundation has no LinkedIn organisation id here, so
it goes by name. It carries no personal data: the certification's official name (the title the
credential and the badge carry, so that the profile entry, the badge and the credential agree),
the issuer, the dates, the id and this page's public address.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from ledger.api.page_words import ISSUER, Gettext
from ledger.credentials.issuer import ACHIEVEMENTS

LINKEDIN = "https://www.linkedin.com/profile/add"


def linkedin_url(answer: Mapping[str, Any], public_url: str) -> str:
    """LinkedIn's add-to-profile address for the certificate, filled in."""
    certificate_id = str(answer["certificate_id"])
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": ACHIEVEMENTS[str(answer["kind"])][1],
        "organizationName": ISSUER,
    }
    issued = _day(answer.get("valid_from"))
    if issued is not None:
        params.update(issueYear=str(issued.year), issueMonth=str(issued.month))
    expires = _day(answer.get("valid_until"))
    if expires is not None:
        params.update(expirationYear=str(expires.year), expirationMonth=str(expires.month))
    params["certUrl"] = verify_url(public_url, certificate_id)
    params["certId"] = certificate_id
    return f"{LINKEDIN}?{urlencode(params, quote_via=quote)}"


def verify_url(public_url: str, certificate_id: str) -> str:
    """This page's public address (in no particular language: each reader gets their own)."""
    return f"{public_url.rstrip('/')}/verify/{quote(certificate_id, safe='')}"


def offers_linkedin(answer: Mapping[str, Any], current: bool) -> bool:
    """Only a certificate valid today, on the page that answers for today, is offered for a
    profile: adding a revoked, suspended or expired one, or one looked up on a past date,
    would claim what the certificate does not say now. Whether the holder's name is shown
    does not matter: the link carries no name, and the holder is the one who clicks it."""
    return current and answer["status"] == "valid" and str(answer.get("kind")) in ACHIEVEMENTS


def documents(
    answer: Mapping[str, Any], language: str, public_url: str, current: bool, _: Gettext
) -> str:
    """The list of links (HTML)."""
    base = f"/credentials/{quote(str(answer['certificate_id']), safe='')}"
    links = [
        (f"{base}.pdf?lang={language}", _("Printable certificate (PDF)")),
        (base, _("Signed digital credential (Open Badges 3.0, JSON)")),
        (f"{base}.jwt", _("The same credential as a VC-JWT")),
        (f"{base}.png", _("Badge image with the credential inside (PNG)")),
        (f"{base}.svg", _("Badge image with the credential inside (SVG)")),
    ]
    items = [f"<li><a href='{escape(href)}'>{escape(text)}</a></li>" for href, text in links]
    listed = "<ul class=links>" + "".join(items) + "</ul>"
    if not offers_linkedin(answer, current):
        return listed
    # For the holder, not the employer reading the page: said so, apart from the documents.
    who = escape(_("For the holder:"))
    label = escape(_("Add to LinkedIn profile"))
    href = escape(linkedin_url(answer, public_url))
    return (
        f"{listed}<p class=share>{who} "
        f"<a class=linkedin href='{href}' rel='noopener noreferrer'>{label}</a></p>"
    )


def _day(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])
