"""In headless Chromium: the security headers, record text isolated for direction and flagged
when it mixes alphabets, and the API documentation working with the network cut off."""

from __future__ import annotations

import pytest

from ledger.config import Settings
from tests.e2e.conftest import Server
from tests.e2e.test_certificate_views import CHROMIUM, require
from tests.e2e.test_http_path import qualify

RLO_NAME = "Maria \u202egnp.exe"
MIXED_NAME = "P\u0430vel Example"  # a Cyrillic a among Latin letters
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_the_verification_page_isolates_record_text_and_sends_security_headers(
    server: Server, settings: Settings
) -> None:
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    (_, spoofed), (_, mixed) = qualify(server, (RLO_NAME, MIXED_NAME))
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            response = page.goto(f"{server.base}/verify/{spoofed}")
            assert response is not None
            assert response.status == 200
            headers = response.headers
            policy = headers["content-security-policy"]
            script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
            assert "'unsafe-inline'" not in script
            assert "frame-ancestors 'none'" in policy
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert headers["referrer-policy"] == "no-referrer"
            holder = page.locator("dt:text-is('Holder') + dd")
            isolate = holder.locator("bdi")
            assert isolate.count() == 1
            assert isolate.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
            assert isolate.inner_text() == "Maria [U+202E]gnp.exe"  # the override shown, inert
            assert "contains direction controls" in holder.inner_text()
            page.goto(f"{server.base}/verify/{mixed}")
            flagged = page.locator("dt:text-is('Holder') + dd").inner_text()
            assert "mixes alphabets: Cyrillic, Latin" in flagged
        finally:
            browser.close()


def test_the_api_documentation_renders_with_the_network_blocked(server: Server) -> None:
    require(CHROMIUM)
    from playwright.sync_api import Route, sync_playwright

    elsewhere: list[str] = []
    violations: list[str] = []

    def only_the_ledger(route: Route) -> None:
        if route.request.url.startswith(server.base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            page.route("**/*", only_the_ledger)
            response = page.goto(f"{server.base}/docs")
            assert response is not None
            assert "script-src 'self'" in response.headers["content-security-policy"]
            title = page.locator(".swagger-ui .info .title")
            title.wait_for(timeout=20_000)
            assert "ledger" in title.inner_text()
            page.locator(
                ".opblock-summary-path", has_text="/verify/{certificate_id}"
            ).first.wait_for()
        finally:
            browser.close()
    assert elsewhere == []
    assert violations == []
