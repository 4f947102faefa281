"""What the privacy tests share: the demo loaded into a real server, the personal strings of the
demo's people, and a crawler of everything a visitor without a token can reach."""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ledger import demo
from ledger.config import Settings
from tests.e2e.conftest import ROOT, server_env

PAGE_LINK = re.compile(r"""href=['"]?(/[^'" >]*)""")
PARAMETERS = {"start": "0", "end": "100000", "index": "0", "size": "1", "from": "1", "to": "1"}


def load_demo(settings: Settings) -> dict[str, list[str]]:
    """`ledger demo --json` in its own process; the certificate ids by status today."""
    loaded = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    certificates: dict[str, list[str]] = json.loads(loaded.stdout)["certificates"]
    return certificates


@dataclass(frozen=True)
class DemoPerson:
    name: str
    organisation: str

    @property
    def email(self) -> str:
        return demo.email_for(self.name)

    def strings(self) -> list[str]:
        # The Foundation's own name is the issuer's, printed on every credential: not personal.
        found = [self.name, self.email]
        return found if self.organisation == demo.FOUNDATION else [*found, self.organisation]


def demo_people() -> list[DemoPerson]:
    staff = [*demo.TUTORS, *demo.COMMITTEE]
    return [DemoPerson(p.name, p.organisation) for p in (*staff, *demo._participants())]


def not_opted_in() -> list[DemoPerson]:
    """Everyone who did not opt in to the public register, or opted in with the name hidden."""
    shown = set(demo.LISTED) - {demo.NAME_HIDDEN}
    return [p for p in demo_people() if p.name not in shown]


def free_text() -> list[str]:
    """Every free-text string the demo records: reasons, grounds, reasoning, notes."""
    found = [
        demo.SUSPENSION_REASON,
        demo.REVOCATION_REASON,
        demo.APPEAL_GROUNDS,
        demo.APPEAL_REASONING,
        "course records incomplete",
        "methodology applied with the cluster",
    ]
    found += [t.returned_for for t in demo.TEAMS if t.returned_for]
    found += [p.withdrawn.reason for p in demo._participants() if p.withdrawn is not None]
    return found


def searchable(response: httpx.Response) -> str:
    """The body as a reader sees it: JSON unescaped, base64 leaf data decoded, HTML unescaped."""
    text = response.text
    if "json" in response.headers.get("content-type", ""):
        try:
            value = response.json()
        except ValueError:
            return text
        parts = [json.dumps(value, ensure_ascii=False)]
        parts += [base64.b64decode(leaf).decode("utf-8", "replace") for leaf in _leaf_data(value)]
        return "\n".join(parts)
    if "html" in response.headers.get("content-type", ""):
        return html.unescape(text)
    return text


def _leaf_data(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "leaf_data" and isinstance(item, str):
                yield item
            else:
                yield from _leaf_data(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaf_data(item)


@dataclass
class Crawl:
    """Every answer a client without a token got, by path."""

    bodies: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def hits(self, secrets: Iterable[str]) -> list[tuple[str, str]]:
        return [
            (path, secret)
            for path, body in self.bodies.items()
            for secret in secrets
            if secret and secret.casefold() in body.casefold()
        ]


def crawl(base: str, limit: int = 400) -> Crawl:
    """Without a token: every GET route of the OpenAPI document (path parameters filled with
    the certificate ids the public register lists, and made-up ids elsewhere), then every link
    the public HTML pages contain, page by page."""
    done = Crawl()
    with httpx.Client(base_url=base, timeout=60) as client:
        spec = client.get("/openapi.json").json()
        register = client.get("/register").json()["certificates"]
        listed = [entry["certificate_id"] for entry in register]
        queue: list[str] = ["/openapi.json", "/docs", "/register"]
        for path, operations in spec["paths"].items():
            if "get" in operations:
                queue += _concrete(path, operations["get"], listed)
        while queue and len(done.bodies) < limit:
            path = queue.pop(0)
            if path in done.bodies:
                continue
            for accept in ("application/json", "text/html"):
                answer = client.get(path, headers={"Accept": accept})
                key = path if accept == "application/json" else f"{path} (html)"
                done.bodies[key] = searchable(answer)
                done.statuses[key] = answer.status_code
                if "html" in answer.headers.get("content-type", ""):
                    queue += [
                        link
                        for link in PAGE_LINK.findall(answer.text)
                        if not link.startswith("/docs/assets")
                    ]
    return done


def _concrete(path: str, operation: dict[str, Any], listed: list[str]) -> list[str]:
    query = [
        f"{p['name']}={PARAMETERS.get(p['name'], '1')}"
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    ]
    suffix = f"?{'&'.join(query)}" if query else ""
    if "{certificate_id}" in path:
        return [path.replace("{certificate_id}", c) + suffix for c in listed]
    filled = re.sub(r"{list_id}", "1", path)
    filled = re.sub(r"{\w+}", "00000000-0000-4000-8000-000000000000", filled)
    return [filled + suffix]
