"""What people see: the verification page in headless Chromium, and the printable PDF whose QR
code opens that page. Runs against the real server loaded with the demo history."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import IN_CI, KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"


def require(tool: str) -> None:
    if shutil.which(tool) is None and not Path(tool).exists():
        if IN_CI:
            pytest.fail(f"{tool} is required under CI (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, list[str]]]]:
    folder = tmp_path_factory.mktemp("views")
    init_keyring(KeyDirectory(folder / "keys"), TEST_ORIGIN, KEYS_SINCE)
    settings = Settings(data_dir=folder / "var", keys_dir=folder / "keys", origin=TEST_ORIGIN)
    loaded = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--json"],
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    certificates = json.loads(loaded.stdout)["certificates"]
    server = start_server(settings)
    try:
        yield server, certificates
    finally:
        stop_server(server)


EXPECTED = {"valid": "Valid", "suspended": "Suspended", "revoked": "Revoked", "expired": "Expired"}


def test_the_verification_page_shows_each_status_in_words(
    demo: tuple[Server, dict[str, list[str]]],
) -> None:
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    server, certificates = demo
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    targets = {status: certificates[status][0] for status in EXPECTED}
    targets["unknown"] = "LT-0000-0000-0000"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(java_script_enabled=False)
            for status, certificate in targets.items():
                response = page.goto(f"{server.base}/verify/{certificate}")
                assert response is not None
                banner = page.get_by_role("status").inner_text()
                if status == "unknown":
                    assert response.status == 404
                    assert "No such certificate" in page.locator("h1").inner_text()
                    assert "Unknown certificate" in banner
                else:
                    assert response.status == 200
                    assert EXPECTED[status] in banner
                    assert certificate in page.inner_text("dl")
                    assert page.get_by_label("Status on another date").count() == 1
                page.screenshot(path=str(ARTIFACTS / f"verify-{status}.png"), full_page=True)
            suspended = certificates["suspended"][0]
            page.goto(f"{server.base}/verify/{suspended}?as_of=2016-01-01")
            assert "Suspended" not in page.get_by_role("status").inner_text()
        finally:
            browser.close()


def test_the_pdf_certificate_renders_names_its_id_and_its_qr_code_opens_the_page(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    require("pdftoppm")
    require("zbarimg")
    server, certificates = demo
    certificate = certificates["valid"][0]
    response = httpx.get(f"{server.base}/credentials/{certificate}.pdf", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    document = tmp_path / "certificate.pdf"
    document.write_bytes(response.content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", str(document), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pages[0], ARTIFACTS / "certificate-pdf.png")
    text = subprocess.run(
        ["pdftotext", str(document), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert certificate in text
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(pages[0])], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (
        decoded
        == f"{os.environ.get('LEDGER_PUBLIC_URL', 'http://127.0.0.1:8000')}/verify/{certificate}"
    )


def offline_verify(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ledger verify` in a network namespace of its own: no connection can be opened."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to cut the verifier off the network")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        ["unshare", "--net", sys.executable, "-m", "ledger", "verify", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def save(server: Server, certificate: str, folder: Path) -> Path:
    folder.mkdir()
    (folder / "credential.json").write_text(
        httpx.get(f"{server.base}/credentials/{certificate}").text
    )
    (folder / "bundle").mkdir()
    (folder / "bundle" / "proof.json").write_text(
        httpx.get(f"{server.base}/credentials/{certificate}/bundle").text
    )
    return folder


def test_ledger_verify_works_offline_and_fails_as_it_should(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    sealed = subprocess.run(
        [
            "unshare",
            "--net",
            sys.executable,
            "-c",
            f"import socket; s=socket.socket(); s.settimeout(2); print(s.connect_ex(('127.0.0.1', {server.base.rsplit(':', 1)[1]})))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sealed.stdout.strip() not in ("", "0")  # inside, the server cannot be reached

    valid = save(server, certificates["valid"][0], tmp_path / "valid")
    (valid / "trust-root.json").write_text(
        (server.settings.keys_dir / "trust-root.json").read_text()
    )
    unpinned = offline_verify(valid, "credential.json", "--bundle", "bundle")
    assert unpinned.returncode == 3, unpinned.stdout + unpinned.stderr
    assert "CONSISTENT, NOT PINNED" in unpinned.stdout
    assert "VALID:" not in unpinned.stdout
    passed = offline_verify(
        valid, "credential.json", "--bundle", "bundle", "--trust", "trust-root.json"
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "PASS proof" in passed.stdout
    assert "PASS keys: key ring derived from 1 key-history records" in passed.stdout
    assert "PASS trust root: the genesis is the trust root's (sha256:" in passed.stdout
    assert "PASS log: issuing event proven at log position" in passed.stdout
    assert passed.stdout.strip().splitlines()[-1].startswith("VALID: status valid on ")

    revoked = save(server, certificates["revoked"][0], tmp_path / "revoked")
    failed = offline_verify(revoked, "credential.json", "--bundle", "bundle")
    assert failed.returncode == 1
    assert "FAIL status: revoked" in failed.stdout

    suspended = save(server, certificates["suspended"][0], tmp_path / "suspended")
    assert (
        "FAIL status: suspended"
        in offline_verify(suspended, "credential.json", "--bundle", "bundle").stdout
    )

    expired = save(server, certificates["expired"][0], tmp_path / "expired")
    assert (
        "FAIL validity: expired"
        in offline_verify(expired, "credential.json", "--bundle", "bundle").stdout
    )

    tampered = json.loads((valid / "credential.json").read_text())
    tampered["validFrom"] = "2001-01-01T00:00:00Z"
    (valid / "tampered.json").write_text(json.dumps(tampered))
    forged = offline_verify(valid, "tampered.json", "--bundle", "bundle")
    assert forged.returncode == 1
    assert "FAIL proof" in forged.stdout

    earlier = offline_verify(valid, "credential.json", "--bundle", "bundle", "--at", "2000-01-01")
    assert earlier.returncode == 1
    assert "not valid before" in earlier.stdout
