"""deploy/compose.yaml validates offline against the Compose Specification (the schema
check-jsonschema vendors: no Docker engine, no network), and holds what the production layout
promises: 3 KRaft nodes with replication factor 3 and min.insync.replicas 2, PostgreSQL, 2
replicas of every agency and of the monitor, the dashboard, our processes configured only
through LT_* variables. A file with an unknown key fails the same check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from contracts.topics import AGENCIES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "deploy" / "compose.yaml"
CHECK = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return services


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    result = subprocess.run([*CHECK, str(COMPOSE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_key_in_the_compose_file_fails_the_same_check(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    text = COMPOSE.read_text(encoding="utf-8")
    bad.write_text(text.replace("    image: postgres:17\n", "    image: postgres:17\n    replicaz: 2\n"))
    result = subprocess.run([*CHECK, str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "replicaz" in result.stdout


def test_three_kraft_nodes_with_three_replicas_and_two_in_sync() -> None:
    services = _services()
    nodes = [s for name, s in services.items() if name.startswith("kafka-")]
    assert len(nodes) == 3
    for node in nodes:
        env = node["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3


def test_two_replicas_of_every_agency_and_of_the_monitor_and_one_dashboard() -> None:
    services = _services()
    for name in [*AGENCIES, "monitor"]:
        assert services[name]["deploy"]["replicas"] == 2, name
    assert "replicas" not in services["dashboard"].get("deploy", {})
    assert "postgres" in services


def test_our_processes_are_configured_only_through_lt_variables() -> None:
    ours = [s for s in _services().values() if s.get("image") == "lienthong:local"]
    assert len(ours) == len(AGENCIES) + 3  # the agencies, the monitor, the dashboard, the topics job
    for service in ours:
        assert service["environment"], service
        assert all(key.startswith("LT_") for key in service["environment"]), service["environment"]


def test_the_layout_would_start_cluster_id_log_dirs_home_tokens_healthchecks_and_one_portal_address() -> None:
    """Regressions, each a reason the file would not have come up: a cluster id that is not a
    base64url UUID (`kafka-storage format` refuses it), Kafka's data written outside its volume,
    no writable LT_HOME for the image's user, the operator and submitter tokens set on one
    service only (every redrive refused by the agencies, each portal replica inventing its own),
    no healthchecks, and two portal replicas on random host ports."""
    import base64
    import re
    import uuid

    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    kafka_env = doc["x-kafka-env"]
    cluster_id = re.sub(r"\$\{LT_KAFKA_CLUSTER_ID:-(.+)\}", r"\1", kafka_env["CLUSTER_ID"])
    assert len(uuid.UUID(bytes=base64.urlsafe_b64decode(cluster_id + "==")).bytes) == 16
    assert kafka_env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    for node in ("kafka-1", "kafka-2", "kafka-3"):
        assert doc["services"][node]["volumes"] == [f"{node}:/var/lib/kafka/data"]
    ours = {name: s for name, s in _services().items() if s.get("image") == "lienthong:local" and name != "topics"}
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    for name, service in ours.items():
        env = service["environment"]
        assert env["LT_HOME"] == "/var/lib/lienthong", name
        assert "chown lienthong /var/lib/lienthong" in dockerfile
        assert env["LT_OPERATOR_TOKEN"] == "${LT_OPERATOR_TOKEN:?set LT_OPERATOR_TOKEN}", name
        assert env["LT_SUBMITTER_TOKEN"] == "${LT_SUBMITTER_TOKEN:?set LT_SUBMITTER_TOKEN}", name
        assert "/healthz" in " ".join(service["healthcheck"]["test"]), name
    portal = _services()["portal"]
    assert "ports" not in portal  # reached through the proxy, one published address
    proxy = _services()["proxy"]
    assert proxy["ports"] == ["8480:8480"]
    assert portal["environment"]["LT_TRUSTED_PROXIES"] == proxy["networks"]["default"]["ipv4_address"]
    assert "proxy_pass http://portal;" in (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
