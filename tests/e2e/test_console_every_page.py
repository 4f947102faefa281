"""Every console page a role can reach by following links from its dashboard, on the demo's
history, in real Chromium against the real server process: each answers 200 (or the console's
deliberate 403 page), axe-core finds no serious or critical violation on it, and every form on
it can be completed by keyboard alone (pressing Tab from the top of the page reaches each of
its visible, enabled controls in turn, up to its submit button). The public pages `/`,
`/verify/{id}` and `/register` pass axe-core too.

Links are followed by GET only (never sign-out, never a download). Pages of the same kind
(`/console/people/{id}` for every person) are many: the crawl takes each kind in turn, up to
150 pages a role; axe-core checks the first two pages of each kind and the keyboard walk the
first, so that the whole file runs in a few minutes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from ledger import demo
from ledger.config import Settings
from ledger.domain.actors import Role
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.console_support import (
    chromium,
    serious_violations,
    sign_in,
    staff_account,
    walk_forms_by_tab,
)
from tests.e2e.privacy_support import load_demo
from tests.e2e.registrar_support import get

PAGES_PER_ROLE = 150
AXE_PER_KIND = 2
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CERTIFICATE = re.compile(r"/(AT|LT|IC)-[0-9A-Z-]+")
NUMBER = re.compile(r"/\d+(?=/|$)")
STAFF = re.compile(r"staff-[0-9a-f]{16}")
TUTOR = demo.TUTORS[0].name
COMMITTEE_MEMBER = demo.COMMITTEE_CHAIR.name


@dataclass
class Demo:
    server: Server
    certificates: dict[str, list[str]]
    accounts: dict[Role, tuple[str, str]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("every-page")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    certificates = load_demo(settings)
    server = start_server(settings)
    try:
        registrar = server.client(server.token("registrar", Role.REGISTRAR))

        def person(name: str) -> str:
            found = get(registrar, "/v1/people", q=name)["items"]
            person_id: str = next(p["person_id"] for p in found if p["name"] == name)
            return person_id

        accounts = {
            Role.ADMIN: staff_account(server, "ada-admin", Role.ADMIN),
            Role.REGISTRAR: staff_account(server, "rita-registrar", Role.REGISTRAR),
            Role.TUTOR: staff_account(server, "tutor", Role.TUTOR, person(TUTOR)),
            Role.COMMITTEE: staff_account(
                server, "committee", Role.COMMITTEE, person(COMMITTEE_MEMBER)
            ),
            Role.AUDITOR: staff_account(server, "aude-auditor", Role.AUDITOR),
        }
        yield Demo(server, certificates, accounts)
    finally:
        stop_server(server)


def kind_of(url: str) -> str:
    """The kind of page a link leads to: its path with ids as placeholders, and the names of
    its query's parameters."""
    parts = urlsplit(url)
    path = CERTIFICATE.sub(r"/{\1}", STAFF.sub("{staff}", UUID.sub("{id}", parts.path)))
    path = NUMBER.sub("/{n}", path)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(names) if names else "")


def followed(base: str, href: str) -> str | None:
    """The link to follow, without its fragment; None for what a crawl must not open."""
    url = href.split("#", 1)[0]
    if not url.startswith(base + "/console"):
        return None
    path = urlsplit(url).path
    if path == "/console/sign-out" or path.endswith(".csv") or path.startswith("/console/static"):
        return None
    return url


@dataclass
class Crawl:
    """What a role's crawl met: pages by kind, and each failure in words."""

    base: str
    visits: Counter[str] = field(default_factory=Counter)
    pending: dict[str, list[str]] = field(default_factory=dict)  # kind -> links, in order
    seen: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # the deliberate 403 pages met
    failures: list[str] = field(default_factory=list)

    def add(self, url: str) -> None:
        if url not in self.seen:
            self.seen.add(url)
            self.pending.setdefault(kind_of(url), []).append(url)

    def next(self) -> str | None:
        """A link of the kind visited least so far (the first found on a tie)."""
        waiting = [kind for kind, urls in self.pending.items() if urls]
        if not waiting:
            return None
        kind = min(waiting, key=lambda k: self.visits[k])  # min keeps the first found
        return self.pending[kind].pop(0)

    def pages(self) -> int:
        return sum(self.visits.values())


def check_forms(page: Any, where: str, crawl: Crawl) -> None:
    for form in walk_forms_by_tab(page):
        problem = form.problem()
        if problem:
            crawl.failures.append(f"{where}: {problem}")


def check_axe(page: Any, where: str, crawl: Crawl) -> None:
    found = serious_violations(page)
    if found:
        crawl.failures.append(f"{where}: axe-core {found}")


def visit(page: Any, url: str, crawl: Crawl) -> None:
    kind = kind_of(url)
    where = url.removeprefix(crawl.base)
    response = page.goto(url)
    status = response.status if response is not None else 0
    if status == 403 and page.locator("main h1").count() == 1:
        crawl.refused.append(where)
    elif status != 200:
        crawl.failures.append(f"{where}: answered {status}")
        crawl.visits[kind] += 1
        return
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    if crawl.visits[kind] < AXE_PER_KIND:
        check_axe(page, where, crawl)  # before the walk, which leaves the focus on a link
    if crawl.visits[kind] == 0:
        check_forms(page, where, crawl)
    crawl.visits[kind] += 1
    for href in links:
        link = followed(crawl.base, href)
        if link is not None:
            crawl.add(link)


@pytest.mark.parametrize(
    "role", [Role.ADMIN, Role.REGISTRAR, Role.TUTOR, Role.COMMITTEE, Role.AUDITOR], ids=str
)
def test_every_page_a_role_reaches_loads_passes_axe_and_works_by_keyboard(
    history: Demo, role: Role
) -> None:
    base = history.server.base
    crawl = Crawl(base)
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, history.server, *history.accounts[role])
        crawl.add(f"{base}/console")
        while crawl.pages() < PAGES_PER_ROLE:
            url = crawl.next()
            if url is None:
                break
            visit(page, url, crawl)
    unvisited = [kind for kind, urls in crawl.pending.items() if urls and not crawl.visits[kind]]
    print(f"\n{role}: {crawl.pages()} pages of {len(crawl.visits)} kinds; 403: {crawl.refused}")
    print("\n".join(f"  {n} {kind}" for kind, n in sorted(crawl.visits.items())))
    assert unvisited == [], f"kinds of page left unvisited at the cap: {unvisited}"
    assert crawl.visits[kind_of(f"{base}/console")] == 1
    assert crawl.failures == [], "\n".join(crawl.failures)


def test_the_front_door_a_verification_page_and_the_public_register_pass_axe(
    history: Demo,
) -> None:
    base = history.server.base
    crawl = Crawl(base)
    pages = [
        "/",
        f"/verify/{history.certificates['valid'][0]}",
        f"/verify/{history.certificates['revoked'][0]}",
        "/register",
    ]
    with chromium() as browser:
        page = browser.new_page()
        for path in pages:
            response = page.goto(base + path)
            assert response is not None
            assert response.status == 200, path
            check_axe(page, path, crawl)
            if path == "/":
                check_forms(page, path, crawl)
    assert crawl.failures == [], "\n".join(crawl.failures)
