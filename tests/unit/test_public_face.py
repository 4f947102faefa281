"""Pure parts of the public face: client addresses, safe display of record text, the render
cache and budget, and private key permissions."""

from __future__ import annotations

import threading
import time
from ipaddress import ip_network
from pathlib import Path

import pytest

from ledger.api.client_address import client_address
from ledger.api.display import mixed_scripts, show
from ledger.api.renders import RenderBudget, RenderCache, RenderRefused
from ledger.config import ConfigError, Settings
from ledger.integrity.key_files import KeyPermissionError, require_private_keys

PROXIES = (ip_network("10.0.0.0/24"), ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("198.51.100.4", "203.0.113.7", "198.51.100.4"),  # untrusted peer: header ignored
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.5", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # left part is the client's word
        ("10.0.0.5", "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # a chain of our own proxies
        ("10.0.0.5", "10.0.0.7, 10.0.0.9", "10.0.0.7"),
        ("10.0.0.5", "not-an-address", "not-an-address"),
        ("10.0.0.5", None, "10.0.0.5"),
    ],
)
def test_the_client_is_the_first_untrusted_address(
    peer: str, header: str | None, client: str
) -> None:
    assert client_address(peer, header, PROXIES) == client


def test_trusted_proxies_are_parsed_and_a_bad_one_is_named() -> None:
    settings = Settings.from_env({"LEDGER_TRUSTED_PROXIES": "10.0.0.5, 172.30.0.0/24"})
    assert settings.trusted_proxies == (ip_network("10.0.0.5/32"), ip_network("172.30.0.0/24"))
    with pytest.raises(ConfigError, match="LEDGER_TRUSTED_PROXIES has value 'proxy'"):
        Settings.from_env({"LEDGER_TRUSTED_PROXIES": "proxy"})


def test_record_text_is_escaped_isolated_and_its_direction_controls_made_visible() -> None:
    html = show("<b>misuse</b> \u202egnp.exe")
    assert html.startswith("<bdi>&lt;b&gt;misuse&lt;/b&gt; ")
    assert "\u202e" not in html
    assert "[U+202E]</span>gnp.exe</bdi>" in html
    assert "contains direction controls" in html


@pytest.mark.parametrize(
    ("text", "mix"),
    [
        ("P\u0430vel", ["Cyrillic", "Latin"]),
        ("Stojiljkovi\u0107", []),
        ("\u039a\u03b5\u03bd\u03c4\u03c1\u03b9\u03ba\u03ae", []),
        ("\u6771\u4eac\u3068\u30ab\u30bf\u30ab\u30ca", []),  # Japanese writes scripts together
        ("ECEI-2014 v2", []),
    ],
)
def test_mixed_scripts_are_found(text: str, mix: list[str]) -> None:
    assert mixed_scripts(text) == mix


def test_concurrent_requests_for_one_answer_render_it_once() -> None:
    cache = RenderCache(RenderBudget(100))
    renders = []

    def render() -> bytes:
        renders.append(1)
        time.sleep(0.05)
        return b"pdf"

    answers: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.answer(("pdf", 1), "c", render)))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [b"pdf"] * 16
    assert len(renders) == 1


def test_a_client_past_its_budget_is_refused_but_cached_answers_stay_free() -> None:
    cache = RenderCache(RenderBudget(2))
    cache.answer("a", "c", lambda: b"a")
    cache.answer("b", "c", lambda: b"b")
    assert cache.answer("a", "c", lambda: b"never") == b"a"
    with pytest.raises(RenderRefused) as refused:
        cache.answer("x", "c", lambda: b"x")
    assert 1 <= refused.value.retry_after <= 61
    assert cache.answer("x", "other client", lambda: b"x") == b"x"


def test_a_private_key_open_to_others_is_named_with_its_fix(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    key = private / "k1.pem"
    key.write_text("key")
    key.chmod(0o600)
    private.chmod(0o700)
    require_private_keys(tmp_path)
    key.chmod(0o640)
    with pytest.raises(KeyPermissionError, match=rf"file {key} has mode 0640.*chmod 600 {key}"):
        require_private_keys(tmp_path)


def test_a_ledger_without_private_keys_has_nothing_to_check(tmp_path: Path) -> None:
    require_private_keys(tmp_path)
