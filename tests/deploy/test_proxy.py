"""deploy/proxy/Caddyfile: Caddy accepts it in each TLS mode, and it fronts both API processes."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.deploy.support import DEPLOY, tool

CADDYFILE = DEPLOY / "proxy" / "Caddyfile"


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def validate(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    caddy = tool("caddy")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    clean.update(env, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", "--validate"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_caddy_accepts_the_organisations_own_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    result = validate(
        tmp_path,
        LEDGER_SITE="ledger.example.org",
        LEDGER_TLS=f"{cert} {key}",
        LEDGER_UPSTREAMS="api-1:8000 api-2:8000",
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_caddy_accepts_acme_and_internal_certificates(tmp_path: Path) -> None:
    for tls in ("ops@example.org", "internal"):
        result = validate(tmp_path, LEDGER_TLS=tls)
        assert result.returncode == 0, (tls, result.stderr[-2000:])


def test_caddy_validation_really_checks(tmp_path: Path) -> None:
    result = validate(tmp_path, LEDGER_TLS=f"{tmp_path}/none.pem {tmp_path}/none.key")
    assert result.returncode != 0
    assert "none.pem" in result.stderr


def test_proxy_balances_both_api_processes_and_checks_their_health() -> None:
    text = CADDYFILE.read_text()
    default = re.search(r"reverse_proxy \{\$LEDGER_UPSTREAMS:([^}]*)\}", text)
    assert default is not None
    assert default.group(1).split() == ["127.0.0.1:8001", "127.0.0.1:8002"]
    assert "health_uri /healthz" in text
    assert re.search(r"@metrics path /metrics\s+respond @metrics 404", text)
    assert "tls {$LEDGER_TLS" in text


@pytest.mark.parametrize("port", ["8001", "8002"])
def test_default_upstreams_are_the_systemd_api_instances(port: str) -> None:
    assert f"ledger-api@{port}.service" in (DEPLOY / "systemd" / "ledger.target").read_text()
