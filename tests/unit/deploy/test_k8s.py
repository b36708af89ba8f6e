"""The Kubernetes example (deploy/k8s/), checked offline: every document against the Kubernetes
API's own schemas (kubernetes-validate ships them per version), then the wiring a schema cannot
see: each process of the product runs its module with the product's settings only, takes its
tokens from the one Secret, answers its probes on the port it serves, and the network is closed
but for what the policies name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.processes import PROCESSES
from runtime.settings import Settings

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
VERSION = "1.30.0"
"""The oldest Kubernetes the example is held to (its API objects are all GA there)."""
PORT_SETTING = {"services.portal": "LT_PORTAL_PORT", "dashboard": "LT_DASHBOARD_PORT"}


def documents() -> list[dict[str, Any]]:
    found = [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert len(found) >= 12, "the scan must find the example's documents"
    return found


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_every_document_is_valid_for_the_kubernetes_api(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, VERSION, strict=True)


def workloads() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents() if d["kind"] in ("Deployment", "StatefulSet", "Job")}


def config() -> dict[str, str]:
    (cm,) = [d for d in documents() if d["kind"] == "ConfigMap"]
    data: dict[str, str] = cm["data"]
    return data


def test_every_process_runs_its_module_and_the_monitor_keeps_its_names() -> None:
    running = {
        name: w["spec"]["template"]["spec"]["containers"][0]["command"]
        for name, w in workloads().items()
        if w["kind"] != "Job"
    }
    assert running == {name: ["python", "-m", module] for name, module in PROCESSES.items()}
    assert workloads()["monitor"]["kind"] == "StatefulSet"
    assert workloads()["lienthong-topics"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "lienthong",
        "topics",
        "apply",
    ]


def test_settings_are_the_products_own_and_the_tokens_come_from_the_secret() -> None:
    known = {f"LT_{name.upper()}" for name in Settings.model_fields}
    (secret,) = [d for d in documents() if d["kind"] == "Secret"]
    assert set(config()) <= known
    assert set(secret["stringData"]) == {"LT_DATABASE_URL", "LT_OPERATOR_TOKEN", "LT_SUBMITTER_TOKEN"}
    assert not set(config()) & set(secret["stringData"])  # no secret in the ConfigMap
    for name, w in workloads().items():
        (container,) = w["spec"]["template"]["spec"]["containers"]
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"lienthong-config", "lienthong-secrets"}, name
        assert {e["name"] for e in container.get("env", [])} <= known, name


def test_each_probe_asks_the_port_the_process_serves() -> None:
    for name, w in workloads().items():
        if w["kind"] == "Job":
            continue
        (container,) = w["spec"]["template"]["spec"]["containers"]
        env = {**config(), **{e["name"]: e.get("value") for e in container.get("env", [])}}
        serves = int(env[PORT_SETTING.get(PROCESSES[name], "LT_SERVICE_PORT")])
        assert container["ports"] == [{"name": "http", "containerPort": serves}], name
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, (name, probe)


def test_the_network_is_closed_but_for_what_the_policies_name() -> None:
    policies = {d["metadata"]["name"]: d["spec"] for d in documents() if d["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    egress_ports = {p["port"] for rule in policies["egress"]["egress"] for p in rule.get("ports", [])}
    assert egress_ports == {9092, 5432, 53}
    (console,) = policies["console-ingress"]["ingress"]
    assert console["ports"] == [{"port": 8490, "protocol": "TCP"}]
