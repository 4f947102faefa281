"""The staff console in real Chromium (Playwright driving the system browser) against the real
server process: staff accounts, signing in, axe-core's accessibility check of a page, moving
through a page by keyboard alone, and screenshots of the screens a person looks at."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.db import Database
from ledger.domain.actors import Role
from tests.e2e.conftest import Server
from tests.e2e.test_certificate_views import CHROMIUM, require

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = ("serious", "critical")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
"""Screenshots of the screens (tests/artifacts/ is not kept in the repository)."""


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (the system's, never a downloaded one)."""
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def staff_account(
    server: Server, username: str, role: Role, person_id: str | None = None
) -> tuple[str, str]:
    """A staff account made directly in the server's database (as `ledger staff invite` and
    the invitation page would): (username, password)."""
    from ledger.console.accounts import Accounts

    password = "pw-" + secrets.token_urlsafe(12)
    db = Database(server.settings)
    try:
        Accounts(db).create(username, role, person_id, password)
    finally:
        db.close()
    return username, password


def sign_in(page: Any, server: Server, username: str, password: str) -> None:
    """Sign in through the sign-in page; lands on the dashboard."""
    page.goto(f"{server.base}/console/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.base}/console**")


def new_signed_in_page(
    browser: Any, server: Server, account: tuple[str, str], **options: Any
) -> Any:
    """A new browser page (`options` as Playwright's new_page takes them), signed in."""
    page = browser.new_page(**options)
    sign_in(page, server, *account)
    return page


def keep_violations(page: Any, kept: dict[str, list[dict[str, Any]]], name: str) -> None:
    """axe-core's serious and critical violations of the page, kept under `name`."""
    found = serious_violations(page)
    if found:
        kept[name] = found


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


def shot(page: Any, folder: str, name: str) -> Path:
    """A full-page screenshot of the screen, as tests/artifacts/<folder>/<name>.png."""
    path = ARTIFACTS / folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def row_of(page: Any, name: str) -> Any:
    """The table row whose row header is `name`."""
    return page.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=name))


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never received the focus by Tab")


def focused_text(page: Any) -> str:
    """The text of the element that has the focus (a button's words)."""
    return str(page.evaluate("document.activeElement.textContent.trim()"))


# -- every form by keyboard alone ---------------------------------------------------------------

_MARK_FORMS = """() => {
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const named = e => ((e.labels && e.labels[0] && e.labels[0].innerText)
      || e.getAttribute("aria-label") || e.innerText || e.value || e.name || e.id || e.tagName)
      .trim().replace(/\\s+/g, " ").slice(0, 60);
  const forms = [];
  let counter = 0;
  document.querySelectorAll("form").forEach((form, f) => {
    const controls = [];
    for (const e of form.elements) {
      if (!["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(e.tagName)) continue;
      if (e.type === "hidden" || e.disabled || !shown(e)) continue;
      // One Tab stop per group of radio buttons: any of the group reached is enough.
      const key = e.type === "radio" ? `f${f}-radio-${e.name}` : `f${f}-c${counter++}`;
      e.dataset.tabKey = key;
      if (!controls.some(c => c.key === key)) controls.push({key: key, name: named(e)});
    }
    forms.push({action: form.getAttribute("action") || "", controls: controls});
  });
  const stops = [...document.querySelectorAll(
      "a[href], button, input, select, textarea, summary, [tabindex]")]
    .filter(e => !e.disabled && e.type !== "hidden" && e.tabIndex >= 0 && shown(e));
  // A date input takes one Tab stop for each of its day, month and year.
  const weight = e => e.tagName === "INPUT" && /^(date|datetime-local|time)$/.test(e.type) ? 3 : 1;
  let presses = 0;
  let count = 0;
  stops.forEach(e => { count += weight(e); if (e.dataset.tabKey) presses = count; });
  const keys = forms.flatMap(f => f.controls.map(c => c.key));
  window.tabWalk = [];
  document.addEventListener(
    "focusin", event => window.tabWalk.push(event.target.dataset.tabKey || ""), true);
  return {forms: forms, presses: presses, last: keys.length ? keys[keys.length - 1] : null};
}"""


EXTRA_PRESSES = 20


@dataclass(frozen=True)
class FormWalk:
    """One form as the keyboard met it: its controls in the page's order, and what Tab
    reached of them, in the order it reached them."""

    action: str
    controls: tuple[tuple[str, str], ...]  # (key, accessible name), in document order
    reached: tuple[str, ...]  # keys, in the order Tab first reached them

    @property
    def missed(self) -> list[str]:
        return [name for key, name in self.controls if key not in self.reached]

    @property
    def in_turn(self) -> bool:
        return list(self.reached) == [key for key, _ in self.controls if key in self.reached]

    def problem(self) -> str | None:
        if self.missed:
            return f"form {self.action or '(this page)'}: Tab never reaches {self.missed}"
        if not self.in_turn:
            return f"form {self.action or '(this page)'}: Tab reaches its controls out of turn"
        return None


def walk_forms_by_tab(page: Any) -> list[FormWalk]:
    """From the top of the freshly loaded page, press Tab until every visible, enabled input,
    select, textarea and button of every form has had its turn (the last control of the last
    form, usually its submit button, included), and say what each form's walk reached."""
    marked = page.evaluate(_MARK_FORMS)
    for _ in range(int(marked["presses"]) + 2):
        page.keyboard.press("Tab")
    walked: list[str] = page.evaluate("window.tabWalk")
    for _ in range(EXTRA_PRESSES):  # a control with more stops than counted: go on a little
        if marked["last"] is None or marked["last"] in walked:
            break
        page.keyboard.press("Tab")
        walked = page.evaluate("window.tabWalk")
    first: list[str] = []
    for key in walked:
        if key and key not in first:
            first.append(key)
    forms = []
    for form in marked["forms"]:
        keys = {c["key"] for c in form["controls"]}
        forms.append(
            FormWalk(
                form["action"],
                tuple((c["key"], c["name"]) for c in form["controls"]),
                tuple(k for k in first if k in keys),
            )
        )
    return forms
