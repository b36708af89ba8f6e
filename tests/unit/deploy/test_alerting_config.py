"""What `up --alerting` writes (deploy/alerting.py): Prometheus scrapes the monitor as the job the
rules watch and every other process, labelled by name; Alertmanager keeps the shipped route and
inhibitions with this stack's receivers, a receiver left without a channel when it is unset. Both
files pass the checks of the programs that load them (Debian's promtool and amtool)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from deploy import alerting
from tests import debian

SERVICES = {"monitor": 9101, "monitor-2": 9102, "hotich": 9103, "dashboard": 8490}


def _check(tool: Path, *args: str) -> str:
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_prometheus_scrapes_the_monitor_under_the_rules_job_and_every_process_by_name(tmp_path: Path) -> None:
    plan = alerting.Plan(interval_s=1, console_url="http://127.0.0.1:8490/")
    config = alerting.prometheus_config(SERVICES, 9093, plan)
    jobs = {j["job_name"]: j["static_configs"] for j in config["scrape_configs"]}
    assert [t["targets"] for t in jobs["lienthong-monitor"]] == [["127.0.0.1:9101"], ["127.0.0.1:9102"]]
    named = {t["labels"]["process"]: t["targets"][0] for t in jobs["lienthong-services"]}
    assert named == {"dashboard": "127.0.0.1:8490", "hotich": "127.0.0.1:9103"}
    assert config["global"]["external_labels"] == {"console_url": "http://127.0.0.1:8490"}
    assert config["global"]["evaluation_interval"] == "1s"
    assert config["rule_files"] == ["rules.yml"]
    labels = {t["labels"]["process"]: t["labels"] for t in jobs["lienthong-services"]}
    assert labels["hotich"]["service_vi"] == "Hộ tịch"
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(alerting.rules_config(plan), allow_unicode=True), "utf-8")
    promtool = debian.ensure(Path("/usr/bin/promtool"), "prometheus")
    said = _check(promtool, "check", "config", str(path))
    assert "rules.yml" in said, said
    assert "SUCCESS" in said, said


def test_the_rules_wait_as_many_scrapes_at_the_stack_s_interval_as_at_the_shipped_one() -> None:
    def waits(plan: alerting.Plan) -> dict[str, str]:
        groups = alerting.rules_config(plan)["groups"]
        return {r["alert"]: r["for"] for g in groups for r in g["rules"] if "for" in r}

    assert waits(alerting.Plan()) == {
        "LienthongConsumerStalled": "600s",
        "LienthongProcessDown": "60s",
        "LienthongMonitorDown": "60s",
    }
    assert waits(alerting.Plan(interval_s=2)) == {
        "LienthongConsumerStalled": "80s",
        "LienthongProcessDown": "8s",
        "LienthongMonitorDown": "8s",
    }
    assert alerting.seconds_of("1h30m") == 5400
    assert alerting.seconds_of("500ms") == 0.5
    for bad in ("1x", "m", "1m junk", ""):
        with pytest.raises(ValueError, match="not a Prometheus duration"):
            alerting.seconds_of(bad)


def test_alertmanager_keeps_the_shipped_route_with_only_the_receivers_given(tmp_path: Path) -> None:
    shipped = yaml.safe_load((alerting.SHIPPED / "alertmanager.yml").read_text(encoding="utf-8"))
    hook_only = alerting.alertmanager_config(alerting.Plan(webhook_url="http://127.0.0.1:7000/x", group_wait_s=2))
    assert hook_only["inhibit_rules"] == shipped["inhibit_rules"]
    assert hook_only["route"]["group_by"] == shipped["route"]["group_by"]
    assert hook_only["route"]["group_wait"] == "2s"
    for receiver in hook_only["receivers"]:
        assert [c["url"] for c in receiver["webhook_configs"]] == ["http://127.0.0.1:7000/x"]
        assert "email_configs" not in receiver
    assert "smtp_smarthost" not in hook_only["global"]
    both = alerting.alertmanager_config(alerting.Plan(webhook_url="http://h/x", smtp="127.0.0.1:2626", mail_to="a@b"))
    assert both["global"]["smtp_smarthost"] == "127.0.0.1:2626"
    page = next(r for r in both["receivers"] if r["name"] == "ops-page")
    assert [c["to"] for c in page["email_configs"]] == ["a@b"]
    amtool = debian.ensure(Path("/usr/bin/amtool"), "prometheus-alertmanager")
    for i, config in enumerate((hook_only, both, alerting.alertmanager_config(alerting.Plan()))):
        path = tmp_path / f"alertmanager-{i}.yml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        _check(amtool, "check-config", str(path))
