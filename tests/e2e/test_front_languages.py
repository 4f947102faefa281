"""The front door and the console's public pages in six languages, in real Chromium against the
real server process: the browser's `Accept-Language` chooses the language, a visible switch of
plain links (no script needed) changes it and a cookie remembers it; the sign-in refusal and
the front door's problems are in the reader's language; the front door's form still reaches
the verification page; the staff pages behind sign-in stay in English.

Screenshots of each language go to /tmp/shots (outside the repository), to be looked at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.console import public_text
from ledger.console.accounts import (
    MAX_PASSWORD,
    AccountError,
    Accounts,
    check_password,
    check_username,
)
from ledger.console.invitations import Invitations
from ledger.console.session import EXPIRED_FORM
from ledger.db import Database
from ledger.domain.actors import Role
from tests.conftest import make_settings
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.console_support import chromium, serious_violations, staff_account
from tests.e2e.registrar_support import Foundation

SHOTS = Path("/tmp/shots")
SOURCE = Path(__file__).resolve().parents[2] / "src" / "ledger" / "console"


@dataclass(frozen=True)
class Words:
    """What a reader of one language sees, written out here (not read from the catalogues)."""

    front_heading: str
    check: str
    certificate_id: str
    sign_in: str
    username: str
    password: str
    problem: str
    wrong: str


WORDS = {
    "en": Words(
        "Check a certificate",
        "Check",
        "Certificate id",
        "Sign in",
        "Username",
        "Password",
        "There is a problem",
        "The username or password is wrong, or the account is locked for a while",
    ),
    "de": Words(
        "Zertifikat prüfen",
        "Prüfen",
        "Zertifikats-ID",
        "Anmelden",
        "Benutzername",
        "Passwort",
        "Es gibt ein Problem",
        "Benutzername oder Passwort ist falsch, oder das Konto ist vorübergehend gesperrt",
    ),
    "fr": Words(
        "Vérifier un certificat",
        "Vérifier",
        "Identifiant du certificat",
        "Se connecter",
        "Nom d'utilisateur",
        "Mot de passe",
        "Il y a un problème",
        "Le nom d'utilisateur ou le mot de passe est incorrect, ou le compte est bloqué",
    ),
    "es": Words(
        "Comprobar un certificado",
        "Comprobar",
        "Identificador del certificado",
        "Iniciar sesión",
        "Nombre de usuario",
        "Contraseña",
        "Hay un problema",
        "El nombre de usuario o la contraseña no son correctos, o la cuenta está bloqueada",
    ),
    "it": Words(
        "Verifica un certificato",
        "Verifica",
        "Codice del certificato",
        "Accedi",
        "Nome utente",
        "Password",
        "C'è un problema",
        "Il nome utente o la password non sono corretti, oppure l'account è bloccato",
    ),
    "pl": Words(
        "Sprawdź certyfikat",
        "Sprawdź",
        "Numer certyfikatu",
        "Zaloguj się",
        "Nazwa użytkownika",
        "Hasło",
        "Wystąpił problem",
        "Nazwa użytkownika lub hasło są nieprawidłowe albo konto jest na jakiś czas zablokowane",
    ),
}
NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "pl": "Polski",
}


@dataclass(frozen=True)
class Site:
    server: Server
    certificate: str


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Site]:
    settings = make_settings("sqlite", tmp_path_factory.mktemp("front-languages"), request)
    server = start_server(settings)
    try:
        staff = Foundation.on(server)
        programme = staff.open_programme("Programme of the languages test")
        tutor = staff.tutor("Tomasz Tutorski", "tomasz.tutorski@faculty.example.org")
        holder = staff.register("Lena Languages", "lena.languages@agency.example.org", "Agency")
        yield Site(server, staff.qualified(programme, holder, tutor, "Smart Textile"))
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


def page_in(browser: Any, language: str, **options: Any) -> Any:
    """A new page of a fresh browser context (no cookie) whose browser prefers `language`."""
    context = browser.new_context(locale=language, **options)
    return context.new_page()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def language_of(page: Any) -> str:
    return str(page.evaluate("document.documentElement.lang"))


def switch_of(page: Any) -> list[dict[str, str | None]]:
    """The language switch as the page shows it: each link's text and attributes."""
    found: list[dict[str, str | None]] = page.locator("nav[aria-label] a[hreflang]").evaluate_all(
        """links => links.map(a => ({
            text: a.textContent.trim(), hreflang: a.getAttribute("hreflang"),
            lang: a.getAttribute("lang"), current: a.getAttribute("aria-current"),
            href: a.getAttribute("href"), visible: String(a.getClientRects().length > 0)}))"""
    )
    return found


@pytest.mark.parametrize("language", list(WORDS))
def test_each_language_is_chosen_by_the_browser(site: Site, browser: Any, language: str) -> None:
    words = WORDS[language]
    page = page_in(browser, language)
    try:
        answer = page.goto(f"{site.server.base}/")
        assert answer is not None
        assert answer.status == 200
        assert answer.headers["content-language"] == language
        assert language_of(page) == language
        assert page.get_by_role("heading", level=1).inner_text() == words.front_heading
        assert page.get_by_role("button", name=words.check, exact=True).is_visible()
        assert page.get_by_label(words.certificate_id).is_visible()
        assert page.title().startswith(words.front_heading)
        switch = switch_of(page)
        assert [link["text"] for link in switch] == list(NAMES.values())
        for link, code in zip(switch, NAMES, strict=True):
            assert link["hreflang"] == code
            assert link["lang"] == code
            assert link["current"] == ("true" if code == language else None)
            assert link["href"] == f"/?lang={code}"
            assert link["visible"] == "true"
        shoot(page, f"front-{language}")

        answer = page.goto(f"{site.server.base}/console/sign-in")
        assert answer is not None
        assert answer.status == 200
        assert language_of(page) == language
        assert page.get_by_role("heading", level=1).inner_text() == words.sign_in
        assert page.get_by_role("button", name=words.sign_in, exact=True).is_visible()
        assert page.get_by_label(words.username).is_visible()
        assert page.get_by_label(words.password).is_visible()
        shoot(page, f"signin-{language}")
    finally:
        page.context.close()


def test_the_switch_changes_the_language_without_script_and_is_remembered(
    site: Site, browser: Any
) -> None:
    page = page_in(browser, "en", java_script_enabled=False)
    base = site.server.base
    try:
        page.goto(f"{base}/")
        assert language_of(page) == "en"
        page.get_by_role("link", name="Deutsch").click()
        page.wait_for_url(f"{base}/?lang=de")
        assert language_of(page) == "de"
        assert page.get_by_role("heading", level=1).inner_text() == WORDS["de"].front_heading

        page.goto(f"{base}/console/sign-in")  # no ?lang=: the cookie remembers German
        assert language_of(page) == "de"
        assert page.get_by_role("heading", level=1).inner_text() == WORDS["de"].sign_in
        current = [link["text"] for link in switch_of(page) if link["current"]]
        assert current == ["Deutsch"]

        page.get_by_role("link", name="Polski").click()
        page.wait_for_url(f"{base}/console/sign-in?lang=pl")
        assert page.get_by_role("heading", level=1).inner_text() == WORDS["pl"].sign_in
        page.goto(f"{base}/")
        assert language_of(page) == "pl"
        assert page.get_by_role("heading", level=1).inner_text() == WORDS["pl"].front_heading
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert cookies["lang"] == "pl"
    finally:
        page.context.close()


def test_a_wrong_sign_in_in_polish_says_so_in_polish_and_reveals_no_account(
    site: Site, browser: Any
) -> None:
    words = WORDS["pl"]
    username, _password = staff_account(site.server, "piotr.przyklad", Role.REGISTRAR)
    page = page_in(browser, "pl")
    try:
        said = []
        for who in (username, "nobody.at.all"):  # an account, and none: the same answer
            page.goto(f"{site.server.base}/console/sign-in")
            page.get_by_label(words.username).fill(who)
            page.get_by_label(words.password).fill("not the password at all")
            page.get_by_role("button", name=words.sign_in, exact=True).click()
            page.wait_for_load_state()
            summary = page.locator(".error-summary")
            assert summary.get_by_role("heading").inner_text() == words.problem
            said.append(summary.get_by_role("link").inner_text())
            assert language_of(page) == "pl"
            assert page.title().startswith("Błąd: ")
        assert said == [words.wrong, words.wrong]
        shoot(page, "signin-pl-refused")
    finally:
        page.context.close()


def test_the_front_door_in_german_reaches_the_verification_page(site: Site, browser: Any) -> None:
    words = WORDS["de"]
    base = site.server.base
    page = page_in(browser, "de")
    try:
        page.goto(f"{base}/")
        assert serious_violations(page) == []
        page.get_by_label(words.certificate_id).fill("LT-1234")
        page.get_by_role("button", name=words.check, exact=True).click()
        summary = page.locator(".error-summary")
        assert summary.get_by_role("heading").inner_text() == words.problem
        assert "zwei Buchstaben, dann zwölf Buchstaben oder Ziffern" in summary.inner_text()
        assert "Fehler:" in page.locator(".error-message").inner_text()
        assert serious_violations(page) == []

        typed = site.certificate.lower().replace("-", " ")  # as someone types it from paper
        page.get_by_label(words.certificate_id).fill(typed)
        page.get_by_role("button", name=words.check, exact=True).click()
        page.wait_for_url(f"{base}/verify/{site.certificate}**")
        assert site.certificate in page.content()
    finally:
        page.context.close()

    unknown = httpx.get(
        f"{base}/check",
        params={"certificate_id": "LT-7KQ2-M9XD-3FHW"},
        headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"},
    )
    assert unknown.status_code == 422
    assert "In diesem Register gibt es kein Zertifikat LT-7KQ2-M9XD-3FHW" in unknown.text


def test_a_narrow_screen_holds_the_longest_words(site: Site, browser: Any) -> None:
    """On a phone (375 px), German's long words neither push the page sideways nor hide the
    switch."""
    for language in ("de", "pl"):
        page = page_in(browser, language, viewport={"width": 375, "height": 800})
        try:
            for path, name in (("/", "front"), ("/console/sign-in", "signin")):
                page.goto(f"{site.server.base}{path}")
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= 375, f"{path} in {language} is {wide}px wide"
                assert all(link["visible"] == "true" for link in switch_of(page))
                shoot(page, f"{name}-{language}-narrow")
        finally:
            page.context.close()


def test_the_staff_pages_behind_sign_in_stay_in_english(site: Site, browser: Any) -> None:
    words = WORDS["fr"]
    username, password = staff_account(site.server, "francine.exemple", Role.AUDITOR)
    page = page_in(browser, "fr")
    try:
        page.goto(f"{site.server.base}/console/sign-in")
        page.get_by_label(words.username).fill(username)
        page.get_by_label(words.password).fill(password)
        page.get_by_role("button", name=words.sign_in, exact=True).click()
        page.wait_for_url(f"{site.server.base}/console")
        assert language_of(page) == "en"
        assert page.get_by_role("link", name="What needs doing").is_visible()
        assert page.get_by_role("button", name="Sign out").is_visible()
        assert not page.locator("a[hreflang]").count()  # no switch on staff pages
    finally:
        page.context.close()


def test_an_invitation_speaks_spanish_and_a_closed_one_italian(site: Site, browser: Any) -> None:
    db = Database(site.server.settings)
    try:
        token = Invitations(db, Accounts(db)).invite(
            Role.REGISTRAR, None, "rosa.ejemplo", invited_by="test"
        )
    finally:
        db.close()
    link = f"{site.server.base}/console/invitation/{token}"
    page = page_in(browser, "es")
    try:
        page.goto(link)
        assert language_of(page) == "es"
        assert (
            page.get_by_role("heading", level=1).inner_text() == "Configure su cuenta de personal"
        )
        lead = page.locator(".lead").inner_text()
        assert "como responsable del registro." in lead
        assert re.search(r"hasta el \d+ de \w+ de \d{4}, \d\d:\d\d UTC", lead), lead
        page.get_by_label("Contraseña", exact=True).fill("corta")
        page.get_by_label("Repita la contraseña").fill("otra")
        page.get_by_role("button", name="Crear mi cuenta").click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary").inner_text()
        assert "Las dos contraseñas no coinciden" in summary
        shoot(page, "invitation-es")
        page.get_by_label("Contraseña", exact=True).fill("corta")
        page.get_by_label("Repita la contraseña").fill("corta")
        page.get_by_role("button", name="Crear mi cuenta").click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary").inner_text()
        assert "Introduzca una contraseña de al menos 12 caracteres" in summary
    finally:
        page.context.close()

    closed = httpx.get(
        f"{site.server.base}/console/invitation/not-a-token", headers={"Accept-Language": "it"}
    )
    assert closed.status_code == 410
    assert "<h1>Questo link di invito non è valido</h1>" in closed.text
    assert '<html lang="it">' in closed.text


# -- the copies of messages raised in English elsewhere ------------------------------------------


def raised_by(check: Any, *args: Any) -> str:
    with pytest.raises(AccountError) as refused:
        check(*args)
    return str(refused.value)


def test_messages_raised_in_english_elsewhere_are_translated_on_public_pages() -> None:
    raised = [
        EXPIRED_FORM,
        raised_by(check_username, "  "),
        raised_by(check_username, "two words"),
        raised_by(check_password, "short", "someone"),
        raised_by(check_password, "x" * (MAX_PASSWORD + 1), "someone"),
        raised_by(check_password, "Someone.Long.Name", "someone.long.name"),
    ]
    invitations = (SOURCE / "invitations.py").read_text()
    raised += re.findall(r'InvitationError\(\s*"([^"]+)"\s*\)', invitations)
    raised += re.findall(r'AccountError\(\s*"\w+",\s*"([^"]+)"\s*\)', invitations)
    assert len(raised) >= 9
    for message in raised:
        for language in ("de", "fr", "es", "it", "pl"):
            assert public_text.known(language, message) != message, (language, message)
        assert public_text.known("en", message) == message
    assert "12" in public_text.known("pl", raised_by(check_password, "short", "someone"))
