"""The verification page for people, in real Chromium (JavaScript off) against the real server
loaded with the demo: it names the issuer, says the status in words in the reader's language
(chosen by `Accept-Language`, or by the visible switch and then remembered), says what the
certificate allows and since when, folds the technical proof under "How this is proven",
links the documents, offers LinkedIn's add-to-profile only for a valid certificate, and has a
box to check another id.

The expected words are written out here, not read from the catalogues. Screenshots of each
language go to the system's temporary folder (`shots/verify-<lang>.png`), to be looked at."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ledger.i18n import LANGUAGES, long_day
from tests.e2e.conftest import Server
from tests.e2e.console_support import chromium, serious_violations
from tests.e2e.test_certificate_views import demo  # noqa: F401 (the module's demo server)

SHOTS = Path(tempfile.gettempdir()) / "shots"
ISSUER = "European Foundation for Cluster Excellence"
LINKEDIN_NAME = "Licensed Trainer in Cluster Management Excellence"
WORDS = {
    # language: (status of a valid licence, issuer line, "How this is proven", the holder label)
    "en": ("Valid licence", f"Issued by the {ISSUER}", "How this is proven", "Holder"),
    "de": ("Gültige Lizenz", f"Ausgestellt von der {ISSUER}", "Wie dies bewiesen wird", "Inhaber"),
    "fr": ("Licence valide", f"Délivré par la {ISSUER}", "Comment cela est prouvé", "Titulaire"),
    "es": ("Licencia vigente", f"Expedido por la {ISSUER}", "Cómo se demuestra", "Titular"),
    "it": ("Licenza valida", f"Rilasciato dalla {ISSUER}", "Come viene dimostrato", "Titolare"),
    "pl": ("Licencja ważna", f"Wystawca: {ISSUER}", "Jak to jest udowodnione", "Posiadacz"),
}
MAY_RUN = {
    "en": "may run the Foundation's courses for cluster managers",
    "de": "darf seit dem",
    "fr": "peut animer les formations de la Fondation",
    "es": "puede impartir los cursos de la Fundación",
    "it": "può tenere i corsi della Fondazione",
    "pl": "może prowadzić kursy Fundacji",
}
REVOKED = {"en": ("Revoked licence", "Revoked on"), "de": ("Widerrufene Lizenz", "Widerrufen am")}
Demo = tuple[Server, dict[str, list[str]]]


def answer_of(server: Server, certificate: str, **params: Any) -> dict[str, Any]:
    found = httpx.get(
        f"{server.base}/verify/{certificate}",
        params=params,
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert found.status_code == 200, found.text
    answer: dict[str, Any] = found.json()
    return answer


def named_licence(server: Server, certificates: dict[str, list[str]]) -> dict[str, Any]:
    """The answer for a valid licence whose holder's name is shown."""
    for certificate in certificates["valid"]:
        if certificate.startswith("LT-"):
            answer = answer_of(server, certificate)
            if answer["holder"]:
                return answer
    raise AssertionError("the demo has no valid licence with a named holder")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


def open_page(browser: Any, url: str, language: str = "en") -> tuple[Any, Any, Any]:
    """A fresh context (no cookie) whose browser prefers `language`: (context, page, response)."""
    context = browser.new_context(
        locale=language,
        extra_http_headers={"Accept-Language": f"{language};q=1, en;q=0.5"},
        java_script_enabled=False,
    )
    page = context.new_page()
    response = page.goto(url)
    assert response is not None
    return context, page, response


def test_each_language_names_the_issuer_and_says_the_status_in_words(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    url = f"{server.base}/verify/{answer['certificate_id']}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        status_word, issuer_line, proven, holder_label = WORDS[language]
        context, page, response = open_page(browser, url, language)
        try:
            assert response.status == 200
            assert response.headers["content-language"] == language
            assert "Accept-Language" in response.headers["vary"]
            assert page.locator("html").get_attribute("lang") == language
            banner = page.get_by_role("status")
            assert status_word in banner.inner_text()
            assert long_day(answer["as_of"], language) in banner.inner_text()
            assert issuer_line in page.locator(".issuer").inner_text()
            sentence = page.locator(".summary").inner_text()
            assert answer["holder"] in sentence
            assert MAY_RUN[language] in sentence
            assert long_day(answer["valid_from"], language) in sentence
            assert long_day(answer["valid_until"], language) in sentence
            assert holder_label in page.locator("dl").inner_text()
            # The proof is there, folded: none of its words on the first screen.
            details = page.locator("details.proof")
            assert details.locator("summary").inner_text() == proven
            assert details.evaluate("d => d.open") is False
            position = str(answer["log"]["position"])
            assert details.get_by_text(position, exact=False).first.is_visible() is False
            assert "log position" not in page.locator("main").inner_text()
            # The switch: every language, each in itself, the current one marked.
            switch = page.get_by_role("navigation")
            links = switch.get_by_role("link")
            assert links.count() == len(LANGUAGES)
            for index, code in enumerate(LANGUAGES):
                link = links.nth(index)
                assert link.get_attribute("lang") == code
                assert link.get_attribute("hreflang") == code
                assert link.get_attribute("href").endswith(f"lang={code}")
                current = link.get_attribute("aria-current")
                assert (current == "true") is (code == language)
            pdf = page.get_by_role("link", name="PDF", exact=False)
            assert pdf.get_attribute("href") == (
                f"/credentials/{answer['certificate_id']}.pdf?lang={language}"
            )
            page.screenshot(path=str(SHOTS / f"verify-{language}.png"), full_page=True)
        finally:
            context.close()


def test_the_switch_changes_the_language_and_the_next_page_remembers_it(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    (revoked,) = certificates["revoked"]
    context, page, _ = open_page(browser, f"{server.base}/verify/{answer['certificate_id']}")
    try:
        assert page.locator("html").get_attribute("lang") == "en"
        page.get_by_role("link", name="Deutsch").click()
        page.wait_for_load_state()
        assert page.url.endswith("?lang=de")
        assert page.locator("html").get_attribute("lang") == "de"
        assert "Gültige Lizenz" in page.get_by_role("status").inner_text()
        # Another page, no `lang` asked: the cookie remembers German over the browser's English.
        response = page.goto(f"{server.base}/verify/{revoked}")
        assert response is not None
        assert response.headers["content-language"] == "de"
        assert page.locator("html").get_attribute("lang") == "de"
        revoked_answer = answer_of(server, revoked)
        word, on = REVOKED["de"]
        banner = page.get_by_role("status").inner_text()
        assert word in banner
        assert f"{on} {long_day(revoked_answer['since'], 'de')}" in banner
    finally:
        context.close()


def test_linkedin_gets_the_certifications_name_issuer_dates_id_and_this_page(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    certificate = answer["certificate_id"]
    context, page, _ = open_page(browser, f"{server.base}/verify/{certificate}", "fr")
    try:
        link = page.get_by_role("link", name="Ajouter au profil LinkedIn")
        href = link.get_attribute("href")
    finally:
        context.close()
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values())
    issued = date.fromisoformat(answer["valid_from"])
    expires = date.fromisoformat(answer["valid_until"])
    assert {key: values[0] for key, values in query.items()} == {
        "startTask": "CERTIFICATION_NAME",
        "name": LINKEDIN_NAME,
        "organizationName": ISSUER,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "expirationYear": str(expires.year),
        "expirationMonth": str(expires.month),
        "certUrl": f"{server.settings.public_url}/verify/{certificate}",
        "certId": certificate,
    }
    assert " " not in href  # spaces percent-encoded, as %20
    assert "+" not in parts.query


def test_a_revoked_licence_says_so_with_its_date_and_offers_no_linkedin(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    (revoked,) = certificates["revoked"]
    answer = answer_of(server, revoked)
    assert answer["status"] == "revoked"
    context, page, response = open_page(browser, f"{server.base}/verify/{revoked}")
    try:
        assert response.status == 200
        banner = page.get_by_role("status").inner_text()
        word, on = REVOKED["en"]
        assert word in banner
        assert f"{on} {long_day(answer['since'], 'en')}" in banner
        assert page.get_by_role("link", name="Add to LinkedIn profile").count() == 0
        assert page.locator("a[href*='linkedin']").count() == 0
        assert page.get_by_role("link", name="Printable certificate (PDF)").count() == 1
        for status in ("suspended", "expired"):
            page.goto(f"{server.base}/verify/{certificates[status][0]}")
            assert page.locator("a[href*='linkedin']").count() == 0, status
        # A valid licence looked up on a past date is not offered either.
        valid = named_licence(server, certificates)
        page.goto(f"{server.base}/verify/{valid['certificate_id']}?as_of={valid['as_of']}")
        assert "Valid licence" in page.get_by_role("status").inner_text()
        assert page.locator("a[href*='linkedin']").count() == 0
    finally:
        context.close()


def test_the_proof_opens_without_javascript_and_passes_axe(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    context, page, _ = open_page(browser, f"{server.base}/verify/{answer['certificate_id']}", "pl")
    try:
        details = page.locator("details.proof")
        details.locator("summary").click()
        assert details.evaluate("d => d.open") is True
        text = details.inner_text()
        assert f"pozycji {answer['log']['position']} rejestru" in text
        assert answer["log"]["checkpoint"]["root"] in text
        assert "Podpisany kluczem punktów kontrolnych rejestru" in text
        assert details.locator("a[href='/log/trust-root']").count() == 1
        page.screenshot(path=str(SHOTS / "verify-pl-proof.png"), full_page=True)
    finally:
        context.close()
    # axe-core needs script: a context of its own, the proof opened.
    context = browser.new_context(locale="pl", extra_http_headers={"Accept-Language": "pl"})
    try:
        page = context.new_page()
        page.goto(f"{server.base}/verify/{answer['certificate_id']}")
        page.locator("details.proof summary").click()
        assert serious_violations(page) == []
    finally:
        context.close()


def test_the_box_checks_another_id_and_an_unknown_id_is_answered_in_the_readers_language(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    (revoked,) = certificates["revoked"]
    context, page, _ = open_page(browser, f"{server.base}/verify/{answer['certificate_id']}", "it")
    try:
        page.get_by_label("Numero del certificato").fill(revoked.lower().replace("-", " "))
        page.get_by_role("button", name="Verifica").click()
        page.wait_for_url(f"{server.base}/verify/{revoked}")
        assert "Licenza revocata" in page.get_by_role("status").inner_text()
        response = page.goto(f"{server.base}/verify/LT-0000-0000-0000")
        assert response is not None
        assert response.status == 404
        assert page.locator("html").get_attribute("lang") == "it"
        assert page.locator("h1").inner_text() == "Certificato non trovato"
        assert page.get_by_label("Numero del certificato").input_value() == "LT-0000-0000-0000"
    finally:
        context.close()


def test_a_page_as_the_ledger_knew_it_says_so_in_words(
    demo: Demo,  # noqa: F811
    browser: Any,
) -> None:
    server, certificates = demo
    answer = named_licence(server, certificates)
    certificate = answer["certificate_id"]
    # The ledger as its checkpoint stood, renewals and all: a licence renewed after its grant
    # read as the ledger knew it just after the grant would rightly show it expired.
    known_at = answer["log"]["tree_size"]
    url = f"{server.base}/verify/{certificate}?known_at={known_at}"
    context, page, _ = open_page(browser, url, "es")
    try:
        banner = page.get_by_role("status").inner_text()
        assert "Licencia vigente" in banner
        assert f"tal como lo conocía el registro en el asiento {known_at}" in banner
        assert page.locator("a[href*='linkedin']").count() == 0
        page.goto(f"{server.base}/verify/{certificate}?known_at=1")
        assert "Certificado aún no registrado" in page.get_by_role("status").inner_text()
    finally:
        context.close()
