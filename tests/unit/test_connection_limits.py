"""The connection limits' settings: defaults, the environment, and who is exempt from the cap."""

from __future__ import annotations

import pytest

from ledger.api.connections import ConnectionLimits
from ledger.config import ConfigError, Settings


def test_the_limits_default_to_10_s_for_a_head_30_s_of_body_silence_and_32_connections() -> None:
    limits = ConnectionLimits.from_settings(Settings.from_env({}))
    assert (limits.header_timeout_s, limits.body_timeout_s, limits.max_per_client) == (10, 30, 32)


def test_the_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "LEDGER_HEADER_TIMEOUT_S": "4",
            "LEDGER_BODY_TIMEOUT_S": "7",
            "LEDGER_MAX_CONNECTIONS_PER_CLIENT": "3",
        }
    )
    limits = ConnectionLimits.from_settings(settings)
    assert (limits.header_timeout_s, limits.body_timeout_s, limits.max_per_client) == (4, 7, 3)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LEDGER_HEADER_TIMEOUT_S", "0"),
        ("LEDGER_BODY_TIMEOUT_S", "soon"),
        ("LEDGER_MAX_CONNECTIONS_PER_CLIENT", "-1"),
    ],
)
def test_a_limit_that_is_not_a_positive_whole_number_is_refused_naming_its_key(
    key: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=f"{key} has value '{value}'"):
        Settings.from_env({key: value})


def test_only_addresses_of_trusted_proxies_are_exempt_from_the_cap() -> None:
    settings = Settings.from_env({"LEDGER_TRUSTED_PROXIES": "10.0.0.5, 172.18.0.0/16, ::1"})
    limits = ConnectionLimits.from_settings(settings)
    assert limits.exempt("10.0.0.5")
    assert limits.exempt("172.18.3.4")
    assert limits.exempt("::1")
    assert not limits.exempt("10.0.0.6")
    assert not limits.exempt("127.0.0.1")
    assert not limits.exempt("not-an-address")
