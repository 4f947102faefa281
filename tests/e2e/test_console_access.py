"""Staff access to the console in real Chromium against the real server process: an invitation
from `ledger staff invite` is accepted (password and a second factor), the new account signs in
with its code and signs out; the sign-in form works with the keyboard alone; axe-core finds no
serious or critical violation on the sign-in, code and invitation pages."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.console.totp import code_at
from ledger.domain.actors import Role
from tests.e2e.conftest import ROOT, Server, server_env
from tests.e2e.console_support import chromium, serious_violations, staff_account

PASSWORD = "seven unrelated words for Rita"
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "console-access"


@pytest.fixture
def backend() -> str:
    return "sqlite"


def invite(server: Server, role: str, username: str) -> str:
    """`ledger staff invite`, as an administrator runs it: the one-time link it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "staff", "invite", "--role", role, "--username", username],
        env=server_env(server.settings, LEDGER_PUBLIC_URL=server.base),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    link = done.stdout.strip()
    assert link.startswith(f"{server.base}/console/invitation/")
    return link


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_invited_registrar_sets_a_password_and_second_factor_signs_in_and_out(
    server: Server,
) -> None:
    link = invite(server, "registrar", "rita.registrar")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(link)
        assert page.get_by_role("heading", name="Set up your staff account").is_visible()
        assert serious_violations(page) == []
        shot(page, "invitation")
        assert page.get_by_label("Username").input_value() == "rita.registrar"
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        secret = page.locator("code.secret").inner_text().strip()
        page.get_by_label("Code from your authenticator app").fill(
            code_at(secret, datetime.now(UTC))
        )
        page.get_by_role("button", name="Create my account").click()
        page.wait_for_url(f"{server.base}/console/sign-in**")
        assert "Your account is ready" in page.locator("main").inner_text()

        page.goto(link)  # the link works once
        assert "used already" in page.locator("h1").inner_text()

        page.goto(f"{server.base}/console/sign-in")
        page.get_by_label("Username").fill("Rita.Registrar")  # any case
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.base}/console/sign-in/code**")
        assert serious_violations(page) == []
        shot(page, "code")
        page.get_by_label("Code from your authenticator app").fill(
            code_at(secret, datetime.now(UTC))
        )
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.base}/console")
        assert page.get_by_role("link", name="What needs doing").is_visible()
        assert "rita.registrar" in page.locator("header").inner_text()
        assert not page.get_by_role("link", name="Staff").count()  # not an administrator

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{server.base}/console/sign-in**")
        assert "You have signed out" in page.locator("main").inner_text()
        page.goto(f"{server.base}/console")
        assert page.url.startswith(f"{server.base}/console/sign-in?next=")


def test_signing_in_works_with_the_keyboard_alone(server: Server) -> None:
    username, password = staff_account(server, "ada.admin", Role.ADMIN)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server.base}/console/staff")  # not signed in: to sign-in, and back
        assert page.url.startswith(f"{server.base}/console/sign-in?next=")
        assert serious_violations(page) == []
        shot(page, "sign-in")
        for _ in range(20):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "username":
                break
        else:
            pytest.fail("Tab never reached the username field")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type("not the password at all")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        assert "The username or password is wrong" in summary.inner_text()
        assert page.evaluate("document.activeElement.className").startswith("error-summary")
        assert serious_violations(page) == []
        shot(page, "sign-in-refused")
        page.keyboard.press("Tab")  # the summary's link to the field
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server.base}/console/staff")
        assert page.get_by_role("heading", name="Staff accounts").is_visible()
        assert serious_violations(page) == []
        shot(page, "staff")
