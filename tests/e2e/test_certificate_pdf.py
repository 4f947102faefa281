"""The printable certificate tells the truth: a revoked, suspended or expired one carries its
status and dates across the page and in its details, every copy says when it was produced and
which trust root it chains to, its QR code opens the verification page, and it speaks the
reader's language. Against the real server loaded with the demo history; the text is read back
with poppler's pdftotext, the QR code with zbarimg from a rendered page."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops

from ledger.config import Settings
from ledger.credentials.issuer import ACHIEVEMENTS
from ledger.credentials.pdf import BAND_COLOURS, achievement_text, certificate_pdf
from ledger.i18n import LANGUAGES
from ledger.integrity.keyring import KeyDirectory, init_keyring
from tests.conftest import IN_CI, KEYS_SINCE, TEST_ORIGIN
from tests.e2e.conftest import ROOT, Server, server_env, start_server, stop_server

ARTIFACTS = ROOT / "tests" / "artifacts"
PUBLIC_URL = "https://certificates.example.org"
BAND_WORDS = ("REVOKED", "SUSPENDED", "EXPIRED", "NOT YET VALID")
GERMAN_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            if IN_CI:
                pytest.fail(f"{tool} is required under CI (.ci/run installs it)")
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, list[str]]]]:
    folder = tmp_path_factory.mktemp("pdf")
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
    server = start_server(settings, LEDGER_PUBLIC_URL=PUBLIC_URL)
    try:
        yield server, certificates
    finally:
        stop_server(server)


def english(day: str) -> str:
    value = date.fromisoformat(day)
    return f"{value.day} {value:%B} {value.year}"


def german(day: str) -> str:
    value = date.fromisoformat(day)
    return f"{value.day}. {GERMAN_MONTHS[value.month - 1]} {value.year}"


def fingerprint(server: Server) -> str:
    """The trust root's short fingerprint, computed here from the trust root file."""
    canonical = (server.settings.keys_dir / "trust-root.json").read_bytes().rstrip(b"\n")
    digits = hashlib.sha256(canonical).hexdigest()[:32]
    return " ".join(digits[i : i + 4] for i in range(0, 32, 4))


def status(server: Server, certificate: str) -> dict[str, str]:
    answer = httpx.get(
        f"{server.base}/verify/{certificate}", headers={"Accept": "application/json"}, timeout=30
    )
    assert answer.status_code == 200
    return dict(answer.json())


def fetch(
    server: Server, certificate: str, folder: Path, params: dict[str, str] | None = None
) -> Path:
    require("pdftotext")
    response = httpx.get(f"{server.base}/credentials/{certificate}.pdf", params=params, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / f"{certificate}-{response.headers['content-language']}.pdf"
    document.write_bytes(response.content)
    return document


def text(document: Path) -> str:
    """The document's text, as a reader copies it (the band is a picture, not text)."""
    return " ".join(
        subprocess.run(
            ["pdftotext", str(document), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )


def picture(document: Path, keep: str | None = None) -> Path:
    """The page rendered at 100 dpi (kept under tests/artifacts as `keep` to look at)."""
    require("pdftoppm")
    stem = document.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", str(document), str(stem)], check=True
    )
    page = stem.with_suffix(".png")
    if keep is not None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, ARTIFACTS / keep)
    return page


def qr_code(page: Path) -> str:
    require("zbarimg")
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True
    ).stdout.strip()


def band_area(page: Path, status: str) -> int:
    """How many pixels show the band's letters: the status colour, half transparent, over the
    band's light tint of it. A page with a band has thousands; a clean page none to speak of."""
    colour = BAND_COLOURS[status]
    expected = [round(255 * 0.45 + c * 0.55) for c in colour]
    with Image.open(page) as image:
        channels = image.convert("RGB").split()
    masks = [
        channel.point([255 if abs(value - want) <= 10 else 0 for value in range(256)])
        for channel, want in zip(channels, expected, strict=True)
    ]
    matching = ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2])
    return int(matching.histogram()[255])


BANDED = 5000


def test_a_revoked_licence_says_so_across_the_page_and_in_its_details(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    certificate = certificates["revoked"][0]
    answer = status(server, certificate)
    assert answer["status"] == "revoked"
    document = fetch(server, certificate, tmp_path)
    plain = text(document)
    assert f"Status REVOKED on {english(answer['since'])}" in plain
    assert "Produced on " in plain
    assert f"Ledger trust root: sha256 {fingerprint(server)}" in plain
    assert "The current status of this certificate is always at this address" in plain
    page = picture(document, "certificate-pdf-revoked.png")
    assert band_area(page, "revoked") > BANDED
    # The band leaves the QR code readable: it still opens the live status.
    assert qr_code(page) == f"{PUBLIC_URL}/verify/{certificate}"


def test_a_suspended_licence_gives_the_suspension_s_dates(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    certificate = certificates["suspended"][0]
    answer = status(server, certificate)
    assert answer["status"] == "suspended"
    assert answer["until"]
    document = fetch(server, certificate, tmp_path)
    dates = f"from {english(answer['since'])} until {english(answer['until'])}"
    assert f"Status SUSPENDED {dates}" in text(document)
    assert band_area(picture(document), "suspended") > BANDED


def test_an_expired_licence_says_since_when(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    certificate = certificates["expired"][0]
    answer = status(server, certificate)
    assert answer["status"] == "expired"
    document = fetch(server, certificate, tmp_path)
    assert f"Status EXPIRED on {english(answer['since'])}" in text(document)
    assert band_area(picture(document), "expired") > BANDED


def test_a_valid_certificate_has_no_band_and_its_qr_code_opens_its_page(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    certificate = certificates["valid"][0]
    assert status(server, certificate)["status"] == "valid"
    document = fetch(server, certificate, tmp_path)
    plain = text(document)
    assert "Status Valid" in plain
    assert not [word for word in BAND_WORDS if word in plain]
    assert certificate in plain
    assert f"Ledger trust root: sha256 {fingerprint(server)}" in plain
    today = datetime.now(UTC).date().isoformat()
    assert f"Produced on {english(today)} at " in plain
    page = picture(document)
    assert all(band_area(page, fate) < BANDED / 5 for fate in ("revoked", "suspended", "expired"))
    assert qr_code(page) == f"{PUBLIC_URL}/verify/{certificate}"


GERMAN_TITLES = {
    "associate_trainer": "Associate-Trainer-Zertifikat für Cluster Management Excellence",
    "licence": "Trainerlizenz für Cluster Management Excellence",
    "instructor": "Ausbilder-Zertifizierung für Cluster Management Excellence",
}


def test_the_pdf_speaks_german_by_switch_by_cookie_and_by_browser_preference(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    valid, revoked = certificates["valid"][0], certificates["revoked"][0]
    url = f"{server.base}/credentials/{valid}.pdf"
    english_copy = httpx.get(url, timeout=60)
    assert english_copy.headers["content-language"] == "en"
    by_browser = httpx.get(url, headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}, timeout=60)
    assert by_browser.headers["content-language"] == "de"
    assert {"Accept-Language", "Cookie"} <= {
        v.strip() for v in by_browser.headers["vary"].split(",")
    }
    assert by_browser.content != english_copy.content  # the cache keeps languages apart
    switched = httpx.get(url, params={"lang": "de"}, headers={"Accept-Language": "fr"}, timeout=60)
    assert switched.headers["content-language"] == "de"
    assert switched.cookies.get("lang") == "de"
    by_cookie = httpx.get(url, cookies={"lang": "de"}, timeout=60)
    assert by_cookie.headers["content-language"] == "de"
    assert by_browser.content == switched.content == by_cookie.content  # one render, cached

    document = fetch(server, valid, tmp_path, params={"lang": "de"})
    plain = text(document)
    assert GERMAN_TITLES[status(server, valid)["kind"]] in plain
    for words in ("verliehen an", "Zertifikatsnummer", "Status Gültig", "Gültig ab", "Aussteller"):
        assert words in plain
    today = datetime.now(UTC).date().isoformat()
    assert f"Erstellt am {german(today)} um " in plain
    assert f"Vertrauensanker des Registers: sha256 {fingerprint(server)}" in plain
    assert "Produced on" not in plain
    assert "awarded to" not in plain
    assert qr_code(picture(document, "certificate-pdf-de.png")) == f"{PUBLIC_URL}/verify/{valid}"

    marked = fetch(server, revoked, tmp_path, params={"lang": "de"})
    assert f"Status WIDERRUFEN am {german(status(server, revoked)['since'])}" in text(marked)
    assert band_area(picture(marked), "revoked") > BANDED


def test_the_other_languages_are_served_too(
    demo: tuple[Server, dict[str, list[str]]], tmp_path: Path
) -> None:
    server, certificates = demo
    certificate = certificates["suspended"][0]
    expected = {
        "fr": "SUSPENDUE du",
        "es": "SUSPENDIDA del",
        "it": "SOSPESA dal",
        "pl": "ZAWIESZONA od",
    }
    for language, words in expected.items():
        document = fetch(server, certificate, tmp_path, params={"lang": language})
        assert document.name.endswith(f"-{language}.pdf")
        assert words in text(document)


# -- in process: every language lays out, and the QR code stays readable -----------------------

FACTS: dict[str, Any] = {
    "certificate_id": "LT-7K3M-Q9PX-2D4R",
    "kind": "licence",
    "holder": "person",
    "stream": "stream",
    "issued_on": "2025-12-30",
    "valid_from": "2025-12-30",
    "valid_until": "2028-12-29",
    "scope": {
        "regions": ["DE-BY", "AT-9", "PL-MZ", "ES-CT", "IT-25", "FR-IDF"],
        "languages": ["de", "en", "pl", "es", "it", "fr"],
        "material_version": "2025.1",
    },
    "suspensions": [],
    "revoked_on": None,
    "revocation_reason": None,
    "decided_by": "committee",
    "events": [],
}
LONGEST: dict[str, dict[str, Any]] = {
    "suspended": {
        "suspensions": [
            {"from": "2026-09-18", "until": "2026-12-18", "reason": "r", "ended_on": None}
        ]
    },
    "not yet valid": {"valid_from": "2027-01-01"},
}
"""The facts whose status lines are the longest, in every language."""


def test_english_titles_are_the_credentials_titles() -> None:
    for kind, (_type, title, criteria) in ACHIEVEMENTS.items():
        assert achievement_text(kind, lambda message: message) == (title, criteria)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_lays_out_its_longest_status_with_a_readable_qr_code(
    language: str, tmp_path: Path
) -> None:
    url = f"{PUBLIC_URL}/verify/{FACTS['certificate_id']}"
    produced = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
    for fate, change in LONGEST.items():
        document = tmp_path / f"{fate}.pdf"
        document.write_bytes(
            certificate_pdf(
                {**FACTS, **change},
                "Nemanja Stojiljković",
                url,
                "3f9a 1c2d 4e5f 6a7b 8c9d 0e1f 2a3b 4c5d",
                produced=produced,
                language=language,
            )
        )
        assert qr_code(picture(document)) == url, (language, fate)
        plain = text(document)
        assert "Stojiljković" in plain
        assert "12:05 UTC" in plain
        assert "3f9a 1c2d 4e5f 6a7b 8c9d 0e1f 2a3b 4c5d" in plain
