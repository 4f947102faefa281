"""deploy/kubernetes/: schema-valid manifests with the probes, ports, resources and settings the
ledger needs; PostgreSQL from a managed service or an operator, never a hand-made StatefulSet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import DEPLOY, unknown_names, walk

K8S = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
OPERATOR_FILES = {"postgres-cloudnativepg.yaml"}  # custom resources of the operator
KEYRING_SETTINGS = {"LEDGER_KEYS_DIR": "/etc/ledger/keys"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml" or path.name in OPERATOR_FILES:
            continue
        found.extend((path.name, doc) for doc in documents(path))
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def workloads() -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] in ("Deployment", "CronJob")]


def container(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in pod_spec(doc)["containers"] if c["name"] == name]
    return found  # type: ignore[no-any-return]


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in c.get("env", [])}


@pytest.mark.parametrize(
    ("name", "doc"), manifests(), ids=[f"{n}:{d['kind']}" for n, d in manifests()]
)
def test_manifest_is_valid_against_the_kubernetes_schema(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    doc = by_kind("Deployment")["ledger-api"]
    broken = yaml.safe_load(yaml.safe_dump(doc))
    container(broken, "api")["readinessProbe"]["httpGet"]["pathh"] = "/readyz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = documents(K8S / "kustomization.yaml")
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"} - OPERATOR_FILES
    assert listed == on_disk
    assert kustomization["namespace"] == "ledger"
    assert [i["name"] for i in kustomization["images"]] == ["ledger"]


def test_every_ledger_container_uses_the_ledger_image() -> None:
    for doc in workloads():
        spec = pod_spec(doc)
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert c["image"] == "ledger", (doc["metadata"]["name"], c["name"])


def test_api_deployment_probes_and_port() -> None:
    api = by_kind("Deployment")["ledger-api"]
    assert api["spec"]["replicas"] >= 2
    c = container(api, "api")
    assert c["args"][0] == "serve"
    assert c["args"][c["args"].index("--port") + 1] == "8000"
    assert c["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert env_of(c)["LEDGER_RUN_WORKER"]["value"] == "0"


def test_worker_deployment_runs_the_background_work_with_a_standby() -> None:
    worker = by_kind("Deployment")["ledger-worker"]
    c = container(worker, "worker")
    assert c["args"] == ["worker"]
    assert "LEDGER_RUN_WORKER" not in env_of(c)
    assert "ports" not in c
    # One active instance (advisory lock); a second replica is a hot standby, never more.
    assert worker["spec"]["replicas"] in (1, 2)


def test_resources_and_security_on_every_container() -> None:
    for doc in workloads():
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] >= 1000
        assert spec["automountServiceAccountToken"] is False
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), c["name"]
            assert "memory" in c["resources"]["limits"], c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["readOnlyRootFilesystem"] is True
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_environment_names_exist_and_secrets_are_referenced() -> None:
    config = by_kind("ConfigMap")["ledger-config"]
    assert not unknown_names(list(config["data"]))
    assert config["data"]["LEDGER_KEYS_DIR"] == KEYRING_SETTINGS["LEDGER_KEYS_DIR"]
    for doc in workloads():
        for c in pod_spec(doc)["containers"]:
            env = env_of(c)
            ledger_names = [n for n in env if n.startswith("LEDGER_") and n != "LEDGER_BUNDLE_KEEP"]
            assert not unknown_names(ledger_names), c["name"]
            url = env["LEDGER_DATABASE_URL"]
            assert "value" not in url
            assert url["valueFrom"]["secretKeyRef"] == {"name": "ledger-database", "key": "url"}
            assert c["envFrom"] == [{"configMapRef": {"name": "ledger-config"}}]


def test_keys_come_from_a_secret_and_are_mounted_read_only() -> None:
    for doc in workloads():
        spec = pod_spec(doc)
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["key-secret"]["secret"]["secretName"] == "ledger-keys"
        assert volumes["keys"]["emptyDir"]["medium"] == "Memory"
        (init,) = spec["initContainers"]
        assert "/etc/ledger/keys/private" in " ".join(init["command"])
        for c in spec["containers"]:
            mounts = {m["name"]: m for m in c["volumeMounts"]}
            assert mounts["keys"]["mountPath"] == KEYRING_SETTINGS["LEDGER_KEYS_DIR"]
            assert mounts["keys"]["readOnly"] is True
            assert "key-secret" not in mounts


def test_no_secret_values_are_committed() -> None:
    for path in K8S.glob("*.yaml"):
        for doc in documents(path):
            assert doc.get("kind") != "Secret", path.name
            for node in walk(doc):
                if isinstance(node, str):
                    assert "postgresql://" not in node, path.name


def test_service_and_ingress_reach_the_api_port() -> None:
    service = by_kind("Service")["ledger-api"]
    api = by_kind("Deployment")["ledger-api"]
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    ingress = by_kind("Ingress")["ledger"]
    assert ingress["spec"]["tls"][0]["secretName"]
    (rule,) = ingress["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "ledger-api", "port": {"name": port["name"]}}
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]


def test_postgresql_is_an_operator_resource_not_a_statefulset() -> None:
    for path in K8S.glob("*.yaml"):
        for doc in documents(path):
            assert doc.get("kind") != "StatefulSet", path.name
    (cluster, backup) = documents(K8S / "postgres-cloudnativepg.yaml")
    assert cluster["apiVersion"].startswith("postgresql.cnpg.io/")
    assert cluster["kind"] == "Cluster"
    assert cluster["spec"]["postgresql"]["parameters"]["synchronous_commit"] == "on"
    assert cluster["spec"]["instances"] >= 2
    assert "barmanObjectStore" in cluster["spec"]["backup"]
    assert backup["kind"] == "ScheduledBackup"
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]


def test_kustomize_renders_with_the_image_set() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (the schema tests above still ran)")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "CronJob")
        for c in pod_spec(d)["containers"]
    }
    assert images == {"registry.example.org/ledger:0.1.0"}
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {"ledger"}
