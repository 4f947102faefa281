"""What a newcomer to the staff console does: on a fresh copy of the project, `make run
PORT=8123`; the console's address and a demo sign-in are printed, a browser signs in with them
on first try, and the QR code of a certificate's PDF opens its page on port 8123.

As tests/e2e/test_newcomer.py, `make run` builds its own virtualenv in the copy; the copy is
the project's files as a clone has them (what .gitignore leaves out is left out), so the test
also holds for work not yet committed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ROOT
from tests.e2e.console_support import chromium
from tests.e2e.test_certificate_views import require

PORT = 8123
BASE = f"http://127.0.0.1:{PORT}"
SIGN_IN = re.compile(r"demo sign-in: username (\S+), password (\S+)")


def ignored_by_git(root: Path) -> tuple[set[str], set[str]]:
    """(names ignored anywhere, paths ignored from the root) as .gitignore lists them."""
    names, paths = {".git"}, set()
    for line in (root / ".gitignore").read_text().splitlines():
        pattern = line.strip().rstrip("/")
        if not pattern or pattern.startswith("#"):
            continue
        (paths if "/" in pattern else names).add(pattern)
    return names, paths


def project_copy(destination: Path) -> Path:
    """The project's files as a fresh clone has them, without anything made by running it."""
    names, paths = ignored_by_git(ROOT)
    keys = ROOT / "keys"

    def ignore(folder: str, entries: list[str]) -> set[str]:
        here = Path(folder)
        skipped = {e for e in entries if any(Path(e).match(n) for n in names)}
        skipped |= {e for e in entries if str((here / e).relative_to(ROOT)) in paths}
        if here == keys:  # the key folder holds only its README in the repository
            skipped |= {e for e in entries if e != "README.md"}
        return skipped

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    return destination


def newcomer_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "VIRTUAL_ENV"))}


@contextmanager
def make_run(project: Path, port: int, log: Path) -> Iterator[str]:
    """`make run PORT=port` in `project` until it answers /readyz; stopped afterwards."""
    with log.open("wb") as output:
        service = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=project,
            env=newcomer_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            assert service.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise AssertionError("not ready: " + log.read_text()[-3000:])
        yield base
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=60)


def port_is_free(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.HTTPError:
        return True
    return False


def test_make_run_prints_a_console_sign_in_that_works_and_qr_codes_follow_the_port(
    tmp_path: Path,
) -> None:
    require("pdftoppm")
    require("zbarimg")
    if not port_is_free(PORT):
        pytest.fail(f"port {PORT} is taken: the newcomer's `make run PORT={PORT}` needs it")
    project = project_copy(tmp_path / "ledger")
    log = tmp_path / "run.log"
    with make_run(project, PORT, log) as base:
        printed = log.read_text()
        assert f"staff console: {BASE}/console" in printed
        found = SIGN_IN.search(printed)
        assert found is not None, printed[-3000:]
        username, password = found.groups()
        kept = project / "var" / "demo-admin-password"
        assert kept.stat().st_mode & 0o777 == 0o600
        assert kept.read_text().strip() == password

        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"{base}/")
            page.get_by_role("link", name="Sign in to the staff console").click()
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/console")
            assert page.locator("h1").inner_text() == "What needs doing"
            assert f"signed in as {username}" in page.locator(".lead").inner_text()

        ledger = str(project / ".venv" / "bin" / "ledger")
        demo = subprocess.run(
            [ledger, "demo", "--json"],
            cwd=project,
            env=newcomer_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        certificate = json.loads(demo.stdout)["certificates"]["valid"][0]
        response = httpx.get(f"{base}/credentials/{certificate}.pdf", timeout=60)
        assert response.status_code == 200
        document = tmp_path / "certificate.pdf"
        document.write_bytes(response.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "100", str(document), str(tmp_path / "page")], check=True
        )
        page_image = sorted(tmp_path.glob("page*.png"))[0]
        decoded = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(page_image)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert decoded == f"{BASE}/verify/{certificate}"

    # A later run prints the same sign-in (the password is kept, the account not made again).
    again = subprocess.run(
        [str(project / ".venv" / "bin" / "ledger"), "demo-admin"],
        cwd=project,
        env=newcomer_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert f"username {username}, password {password}" in again.stdout
