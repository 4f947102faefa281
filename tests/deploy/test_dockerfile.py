"""deploy/Dockerfile: hadolint, and the properties the image must have."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, ROOT, tool, unknown_names

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        word, _, rest = stripped.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for word, rest in instructions(text):
        if word == "FROM":
            result.append([])
        if result:
            result[-1].append((word, rest))
    return result


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint")
    version = subprocess.run([hadolint, "--version"], capture_output=True, text=True)
    assert version.returncode == 0
    assert "Haskell Dockerfile Linter" in version.stdout
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    """The linter really runs: the same call fails on a Dockerfile with known faults."""
    hadolint = tool("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install ledger\n")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_build_is_multi_stage_and_the_runtime_stage_holds_only_the_environment() -> None:
    built = stages(DOCKERFILE.read_text())
    assert len(built) >= 2
    first, final = built[0], built[-1]
    build_name = first[0][1].split()[-1]
    assert " AS " in first[0][1].upper()
    assert any(w == "RUN" and "pip install" in r for w, r in first)
    assert not any(w == "RUN" and "pip install" in r for w, r in final)
    copies = [r for w, r in final if w == "COPY"]
    assert any(f"--from={build_name}" in r and "/opt/ledger" in r for r in copies)
    for rest in copies:
        if "--from=" not in rest:  # from the build context: only the small wrappers
            assert all(s.startswith(("--", "deploy/", "/")) for s in rest.split()), rest


def test_runs_as_an_unprivileged_user() -> None:
    final = stages(DOCKERFILE.read_text())[-1]
    users = [r for w, r in final if w == "USER"]
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user.isdigit()
    assert int(user) >= 1000
    # USER comes after every RUN, so nothing later runs as root.
    words = [w for w, _ in final]
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN")


def test_healthcheck_asks_healthz() -> None:
    final = stages(DOCKERFILE.read_text())[-1]
    checks = [r for w, r in final if w == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0]
    assert "--interval" in checks[0]
    assert "--timeout" in checks[0]


def test_keys_are_never_copied_and_never_in_the_build_context() -> None:
    for word, rest in instructions(DOCKERFILE.read_text()):
        if word in ("COPY", "ADD"):
            assert "keys" not in shlex.split(rest)[:-1], rest
            assert "var" not in shlex.split(rest)[:-1], rest
        assert word != "ADD", "COPY only: ADD fetches and unpacks"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "**", "the context starts empty and names what it lets in"
    allowed = [rule[1:] for rule in rules if rule.startswith("!")]
    assert not any(
        a.startswith(("keys", "var", ".venv", "deploy/keys", "deploy/secrets")) for a in allowed
    )
    for path in allowed:
        assert (ROOT / path.rstrip("/")).exists(), path


def test_configuration_is_by_ledger_settings_that_exist() -> None:
    final = stages(DOCKERFILE.read_text())[-1]
    env_text = " ".join(r for w, r in final if w == "ENV")
    names = {n for n in re.findall(r"(LEDGER_[A-Z_]+)=", env_text)}
    assert {"LEDGER_KEYS_DIR", "LEDGER_DATA_DIR"} <= names
    assert not unknown_names(names)
    assert "LEDGER_DATABASE_URL=" not in env_text  # a secret: mounted, never baked in


def test_entrypoint_and_default_command_serve_the_api() -> None:
    final = stages(DOCKERFILE.read_text())[-1]
    entry = [r for w, r in final if w == "ENTRYPOINT"][-1]
    command = [r for w, r in final if w == "CMD"][-1]
    assert entry.startswith("[")
    assert "ledger" in entry
    assert '"serve"' in command
    assert '"8000"' in command
    assert any(w == "EXPOSE" and r == "8000" for w, r in final)


@pytest.mark.parametrize("script", ["ledger-env.sh", "backup-bundle.sh"])
def test_scripts_copied_into_the_image_exist_and_are_executable(script: str) -> None:
    path = DEPLOY / script
    assert path.is_file()
    assert path.stat().st_mode & 0o111
    assert f"deploy/{script}" in DOCKERFILE.read_text()
