"""deploy/systemd/: `systemd-analyze verify` and `security`, and the hardening the units promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, tool, unknown_names

UNITS = DEPLOY / "systemd"
SERVICES = ("ledger-api@.service", "ledger-worker.service", "ledger-bundle.service")
INSTALLED = {  # where the units expect the programs on a machine set up as deploy/README.md says
    "/opt/ledger/bin/ledger": Path(sys.executable).with_name("ledger"),
    "/usr/local/lib/ledger/backup-bundle.sh": DEPLOY / "backup-bundle.sh",
}
MAX_EXPOSURE = 2.5  # systemd-analyze security: 0 (locked down) to 10 (exposed)


def parse(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as (key, value) lists: keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        assert current is not None, f"{path.name}: key before a section"
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(path: Path, section: str, key: str) -> list[str]:
    return [v for k, v in parse(path).get(section, []) if k == key]


def one(path: Path, section: str, key: str) -> str:
    found = values(path, section, key)
    assert len(found) == 1, f"{path.name}: {key} is set {len(found)} times"
    return found[0]


@pytest.fixture
def installed_units(tmp_path: Path) -> Path:
    """The units with their program paths pointed at this checkout's programs (verify checks
    that every ExecStart is executable)."""
    for target in INSTALLED.values():
        assert Path(target).exists(), target
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text()
        for source, target in INSTALLED.items():
            text = text.replace(source, str(target))
        (folder / unit.name).write_text(text)
    return folder


def test_the_units_are_there() -> None:
    names = {p.name for p in UNITS.iterdir()}
    assert {*SERVICES, "ledger.target", "ledger-bundle.timer"} <= names


def test_systemd_analyze_verify_is_clean(installed_units: Path) -> None:
    analyze = tool("systemd-analyze")
    units = [
        installed_units / "ledger-api@8001.service",
        installed_units / "ledger-api@8002.service",
        installed_units / "ledger-worker.service",
        installed_units / "ledger-bundle.service",
        installed_units / "ledger-bundle.timer",
        installed_units / "ledger.target",
    ]
    result = subprocess.run(
        [analyze, "verify", *map(str, units)], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 on unknown or malformed settings too, and only says so: nothing may be said.
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert result.stderr.strip() == "", result.stderr


def test_systemd_analyze_verify_really_checks(installed_units: Path) -> None:
    analyze = tool("systemd-analyze")
    bad = installed_units / "ledger-worker.service"
    bad.write_text(bad.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    result = subprocess.run(
        [analyze, "verify", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert "ProtectSytem" in result.stderr


@pytest.mark.parametrize("unit", ["ledger-api@8001.service", "ledger-worker.service"])
def test_systemd_analyze_security_rates_the_services_well_locked_down(
    installed_units: Path, unit: str
) -> None:
    analyze = tool("systemd-analyze")
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(installed_units / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= MAX_EXPOSURE


def test_api_is_a_template_whose_instance_is_the_port() -> None:
    api = UNITS / "ledger-api@.service"
    start = one(api, "Service", "ExecStart").split()
    assert start[:2] == ["/opt/ledger/bin/ledger", "serve"]
    assert start[start.index("--port") + 1] == "%i"
    assert start[start.index("--host") + 1] == "127.0.0.1"
    assert "LEDGER_RUN_WORKER=0" in values(api, "Service", "Environment")


def test_worker_runs_the_background_work() -> None:
    worker = UNITS / "ledger-worker.service"
    assert one(worker, "Service", "ExecStart") == "/opt/ledger/bin/ledger worker"
    assert not [v for v in values(worker, "Service", "Environment") if "RUN_WORKER" in v]


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_unprivileged_restarting_and_hardened(name: str) -> None:
    unit = UNITS / name
    assert one(unit, "Service", "User") == "ledger"
    assert one(unit, "Service", "Group") == "ledger"
    assert one(unit, "Service", "EnvironmentFile") == "/etc/ledger/ledger.env"
    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "PrivateTmp") == "yes"
    assert one(unit, "Service", "ProtectHome") == "yes"
    assert one(unit, "Service", "CapabilityBoundingSet") == ""
    # The only writable place is the ledger's state folder; keys and settings are read-only.
    assert values(unit, "Service", "ReadWritePaths") == ["/var/lib/ledger"]
    assert one(unit, "Service", "StateDirectory") == "ledger"
    assert one(unit, "Service", "ReadOnlyPaths") == "/etc/ledger"
    if one(unit, "Service", "Type") != "oneshot":
        assert one(unit, "Service", "Restart") in ("on-failure", "always")


def test_target_starts_two_api_processes_and_the_worker() -> None:
    wants = one(UNITS / "ledger.target", "Unit", "Wants").split()
    assert sorted(wants) == [
        "ledger-api@8001.service",
        "ledger-api@8002.service",
        "ledger-worker.service",
    ]
    for name in ("ledger-api@.service", "ledger-worker.service"):
        assert one(UNITS / name, "Install", "WantedBy") == "ledger.target"


def test_timer_starts_the_bundle_backup() -> None:
    timer = UNITS / "ledger-bundle.timer"
    assert one(timer, "Timer", "OnCalendar")
    assert one(timer, "Timer", "Persistent") == "true"
    bundle = UNITS / "ledger-bundle.service"
    assert one(bundle, "Service", "ExecStart") == "/usr/local/lib/ledger/backup-bundle.sh"


def test_environment_file_example_names_only_real_settings() -> None:
    lines = (DEPLOY / "ledger.env.example").read_text().splitlines()
    names = [line.split("=")[0] for line in lines if line and not line.startswith("#")]
    assert "LEDGER_DATABASE_URL" in names
    assert "LEDGER_KEYS_DIR" in names
    assert not unknown_names(names)
    assert "LEDGER_RUN_WORKER" not in names, "set per unit: only the API processes turn it off"


def test_tool_paths_are_where_the_readme_installs_them() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for path in INSTALLED:
        assert path in readme or str(Path(path).parent) in readme, path
