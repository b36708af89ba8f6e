"""deploy/compose_plan.py reads deploy/compose.yaml as the containers it would start and maps them
onto loopback; each reason the file would not come up is refused before anything starts, naming
the service and the key. The defects of the first compose file are each one case here."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from deploy.compose_file import ComposeError, interpolate, read_dockerfile, seconds
from deploy.compose_plan import Container, plan

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "deploy" / "compose.yaml"
BUILT = read_dockerfile((ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8"))
SECRETS = {"LT_DB_PASSWORD": "dbpw", "LT_OPERATOR_TOKEN": "op", "LT_SUBMITTER_TOKEN": "sub"}


def _ports() -> object:
    counter = itertools.count(40000)
    return lambda _taken: next(counter)


def _plan(tmp_path: Path, text: str | None = None, environ: dict[str, str] | None = None) -> list[Container]:
    path = COMPOSE
    if text is not None:
        path = tmp_path / "deploy" / "compose.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        (path.parent / "nginx.conf").write_text("")
    return plan(path, SECRETS if environ is None else environ, tmp_path / "run", BUILT, _ports())  # type: ignore[arg-type]


def _edited(old: str, new: str) -> str:
    text = COMPOSE.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def _by_name(containers: list[Container]) -> dict[str, Container]:
    return {c.name: c for c in containers}


def test_every_replica_is_a_container_and_the_order_follows_depends_on(tmp_path: Path) -> None:
    containers = _plan(tmp_path)
    names = [c.name for c in containers]
    assert {"portal-1", "portal-2", "monitor-1", "monitor-2", "dashboard-1", "topics-1"} <= set(names)
    assert names.index("topics-1") > max(names.index(f"kafka-{n}-1") for n in (1, 2, 3))
    assert names.index("portal-1") > names.index("topics-1")
    assert names.index("portal-1") > names.index("postgres-1")
    assert _by_name(containers)["topics-1"].job
    assert not _by_name(containers)["portal-1"].job


def test_addresses_and_ports_are_mapped_to_each_containers_own_local_ports(tmp_path: Path) -> None:
    c = _by_name(_plan(tmp_path))
    kafka1, kafka2, portal1, portal2 = c["kafka-1-1"], c["kafka-2-1"], c["portal-1"], c["portal-2"]
    assert kafka1.local_env["KAFKA_LISTENERS"] == (
        f"PLAINTEXT://127.0.0.1:{kafka1.ports[9092]},CONTROLLER://127.0.0.1:{kafka1.ports[9093]}"
    )
    assert f"2@127.0.0.1:{kafka2.ports[9093]}" in kafka1.local_env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert c["hotich-1"].local_env["LT_KAFKA_BOOTSTRAP"].split(",")[1] == f"127.0.0.1:{kafka2.ports[9092]}"
    assert f"@127.0.0.1:{c['postgres-1'].ports[5432]}/" in c["hotich-1"].local_env["LT_DATABASE_URL"]
    # Each portal replica listens on its own port; its clients reach the first, as DNS may answer.
    assert portal1.local_env["LT_PORTAL_PORT"] != portal2.local_env["LT_PORTAL_PORT"]
    assert c["dashboard-1"].local_env["LT_PORTAL_PORT"] == str(portal1.ports[8480])
    assert c["hotich-1"].local_env["LT_BIND_HOST"] == "127.0.0.1"
    ports = [p for x in c.values() for p in x.ports.values()]
    assert len(ports) == len(set(ports))


def test_data_and_homes_land_in_the_volumes_and_container_folders(tmp_path: Path) -> None:
    c = _by_name(_plan(tmp_path))
    assert c["kafka-2-1"].local_env["KAFKA_LOG_DIRS"] == str(tmp_path / "run" / "volumes" / "kafka-2")
    assert c["lltp-2"].local_env["LT_HOME"] == str(tmp_path / "run" / "containers" / "lltp-2" / "var/lib/lienthong")
    assert c["lltp-2"].local_env["HOME"].endswith("lltp-2/home/lienthong")


def test_healthcheck_budget_is_start_period_plus_interval_times_retries(tmp_path: Path) -> None:
    c = _by_name(_plan(tmp_path))
    assert c["portal-1"].health_budget_s == 30 + 10 * 6
    assert c["kafka-1-1"].health_budget_s == 5 * 30
    assert seconds("1m30s", 0) == 90
    assert seconds("500ms", 0) == 0.5
    assert seconds(None, 7) == 7


def test_an_unset_required_variable_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match=r"LT_OPERATOR_TOKEN.*set LT_OPERATOR_TOKEN"):
        _plan(tmp_path, environ={"LT_DB_PASSWORD": "x", "LT_SUBMITTER_TOKEN": "y"})
    assert interpolate("${A:-d}/${B}/$$", {"B": "b"}, "here") == "d/b/$"


def test_kafka_data_outside_its_volume_is_refused(tmp_path: Path) -> None:
    text = _edited("  KAFKA_LOG_DIRS: /var/lib/kafka/data\n", "")
    with pytest.raises(ComposeError, match=r"kafka-1.*/tmp/kraft-combined-logs.*nothing would persist"):
        _plan(tmp_path, text)


def test_a_home_the_images_user_cannot_write_is_refused(tmp_path: Path) -> None:
    text = _edited("  LT_HOME: /var/lib/lienthong\n", "  LT_HOME: /app/state\n")
    with pytest.raises(ComposeError, match=r"LT_HOME=/app/state is not writable by the image's user lienthong"):
        _plan(tmp_path, text)
    relative = _edited("  LT_HOME: /var/lib/lienthong\n", "  LT_HOME: .lienthong\n")
    with pytest.raises(ComposeError, match=r"LT_HOME=/app/.lienthong is not writable"):
        _plan(tmp_path, relative)


def test_an_operator_token_on_one_service_only_is_refused(tmp_path: Path) -> None:
    text = _edited("  LT_OPERATOR_TOKEN: ${LT_OPERATOR_TOKEN:?set LT_OPERATOR_TOKEN}\n", "")
    dashboard = '      LT_DASHBOARD_PORT: "8490"\n'
    text = text.replace(dashboard, dashboard + "      LT_OPERATOR_TOKEN: x\n")
    with pytest.raises(ComposeError, match=r"LT_OPERATOR_TOKEN must be set alike.*unset on .*hotich"):
        _plan(tmp_path, text)


def test_an_address_naming_no_service_or_a_port_nobody_listens_on_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match=r"LT_KAFKA_BOOTSTRAP: kafka-4:9092 names no service"):
        _plan(tmp_path, _edited("LT_KAFKA_BOOTSTRAP: kafka-1:9092,", "LT_KAFKA_BOOTSTRAP: kafka-4:9092,"))
    with pytest.raises(ComposeError, match=r"LT_DATABASE_URL: postgres listens on no port 5433"):
        _plan(tmp_path, _edited("@postgres:5432/", "@postgres:5433/"))


def test_a_dependency_cycle_or_an_unknown_dependency_is_refused(tmp_path: Path) -> None:
    text = _edited("      kafka-1: {condition: service_healthy}\n", "      kafka-9: {condition: service_healthy}\n")
    with pytest.raises(ComposeError, match=r"services.topics.depends_on names no service 'kafka-9'"):
        _plan(tmp_path, text)


def test_the_dockerfile_hands_its_user_the_home_and_sets_it() -> None:
    assert BUILT.user == "lienthong"
    assert BUILT.writable == ("/var/lib/lienthong",)
    assert BUILT.env["LT_HOME"] == "/var/lib/lienthong"
    assert BUILT.workdir == "/app"


def test_the_image_facts_file_with_an_unknown_key_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    from deploy.compose_plan import IMAGES_FILE, images

    bad = tmp_path / "images.yaml"
    bad.write_text(IMAGES_FILE.read_text(encoding="utf-8").replace("    ports: [80]", "    portz: [80]"))
    with pytest.raises(ComposeError, match=r"images.yaml: images.nginx.portz: Extra inputs are not permitted"):
        images(bad)
    assert images().images["postgres"].ports == (5432,)
