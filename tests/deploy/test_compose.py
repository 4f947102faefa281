"""deploy/compose.yaml: PostgreSQL, two API processes, one worker and a TLS proxy in front."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, ROOT, unknown_names, walk

COMPOSE = DEPLOY / "compose.yaml"
LEDGER_SERVICES = ("api-1", "api-2", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def command(service: dict[str, Any]) -> list[str]:
    value = service["command"]
    return value if isinstance(value, list) else value.split()


def test_the_services_are_there(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {"postgres", "api-1", "api-2", "worker", "proxy"}


def test_postgres_has_a_volume_and_a_health_check(compose: dict[str, Any]) -> None:
    pg = services(compose)["postgres"]
    assert pg["image"].startswith("postgres:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    named = {v.split(":")[0] for v in pg["volumes"]}
    assert named <= set(compose["volumes"])
    assert "pg_isready" in pg["healthcheck"]["test"]
    assert pg["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "POSTGRES_PASSWORD" not in pg["environment"]
    settings = " ".join(pg["command"])
    assert "synchronous_commit=on" in settings
    assert "archive_mode=on" in settings


def test_two_api_processes_serve_without_the_background_worker(compose: dict[str, Any]) -> None:
    for name in ("api-1", "api-2"):
        api = services(compose)[name]
        assert command(api)[0] == "serve"
        assert "--port" in command(api)
        assert "8000" in command(api)
        assert api["environment"]["LEDGER_RUN_WORKER"] == "0"
        assert "8000" in [str(p) for p in api["expose"]]
        assert "ports" not in api, "API processes are reached through the proxy only"
        test = " ".join(api["healthcheck"]["test"])
        assert "http://127.0.0.1:8000/healthz" in test


def test_one_worker_runs_the_background_work(compose: dict[str, Any]) -> None:
    worker = services(compose)["worker"]
    assert command(worker) == ["worker"]
    assert worker["environment"].get("LEDGER_RUN_WORKER", "1") != "0"
    assert "replicas" not in worker.get("deploy", {})


def test_ledger_services_share_one_image_built_from_the_dockerfile(
    compose: dict[str, Any],
) -> None:
    images = {services(compose)[name]["image"] for name in LEDGER_SERVICES}
    assert len(images) == 1
    build = services(compose)["api-1"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_the_first_api_process_starts_alone_on_an_empty_database(
    compose: dict[str, Any],
) -> None:
    """Two processes creating the same table at the same moment collide: the others wait."""
    found = services(compose)
    assert found["api-1"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api-2", "worker"):
        assert found[name]["depends_on"]["api-1"]["condition"] == "service_healthy"


def test_environment_names_exist(compose: dict[str, Any]) -> None:
    for name in LEDGER_SERVICES:
        env = services(compose)[name]["environment"]
        assert not unknown_names(list(env)), name
        assert "LEDGER_DATABASE_URL" not in env, "the URL holds a password: a mounted file"
        assert env["LEDGER_DATABASE_URL_FILE"] == "/run/secrets/database_url"


def test_keys_and_secrets_are_mounted_files(compose: dict[str, Any]) -> None:
    for name in LEDGER_SERVICES:
        service = services(compose)[name]
        assert "./keys:/etc/ledger/keys:ro" in service["volumes"]
        assert service["environment"]["LEDGER_KEYS_DIR"] == "/etc/ledger/keys"
        assert "database_url" in service["secrets"]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert {"keys/", "secrets/"} <= set(ignored)
    listed = subprocess.run(
        ["git", "ls-files", "deploy/keys", "deploy/secrets"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert listed.stdout == ""


def test_no_secret_value_is_written_in_the_file(compose: dict[str, Any]) -> None:
    for node in walk(compose):
        if isinstance(node, dict):
            for key, value in node.items():
                if re.search(r"PASSWORD|SECRET|TOKEN", str(key)) and isinstance(value, str):
                    assert value.startswith("/run/secrets/"), key
    values = [node for node in walk(compose) if isinstance(node, str)]
    assert not [v for v in values if "postgresql://" in v], "a database URL in the file"


def test_proxy_terminates_tls_in_front_of_both_api_processes(compose: dict[str, Any]) -> None:
    proxy = services(compose)["proxy"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    upstreams = proxy["environment"]["LEDGER_UPSTREAMS"].split()
    assert upstreams == ["api-1:8000", "api-2:8000"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in proxy["volumes"]}
    assert mounts["./proxy/Caddyfile"] == "/etc/caddy/Caddyfile"
    assert (DEPLOY / "proxy" / "Caddyfile").is_file()
    for name in ("api-1", "api-2"):
        assert proxy["depends_on"][name]["condition"] == "service_healthy"


def test_backend_network_is_internal(compose: dict[str, Any]) -> None:
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgres", *LEDGER_SERVICES):
        assert services(compose)[name]["networks"] == ["backend"]
    assert set(services(compose)["proxy"]["networks"]) == {"backend", "public"}


def test_referenced_files_exist(compose: dict[str, Any]) -> None:
    for node in walk(compose):
        if isinstance(node, str) and node.startswith("./") and not node.startswith("./secrets"):
            local = node.split(":")[0]
            if local != "./keys":
                assert (DEPLOY / local).exists(), local
