"""The shipped alerting: the Prometheus rules pass their own unit tests under `promtool test rules`
(lost dossiers page the agency and flow they wait at, a silent agency is one critical alert,
overdue counts in working days, a consumer behind and not moving is an infrastructure alert), and
the Prometheus and Alertmanager configurations are valid for the tools that load them, with the
routing an ops team expects. promtool and amtool come from Debian's packages."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import debian

HERE = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=HERE, capture_output=True, text=True, timeout=60, check=False)


def test_the_rules_pass_their_unit_tests_under_promtool() -> None:
    promtool = str(debian.ensure(Path("/usr/bin/promtool"), "prometheus"))
    checked = run(promtool, "check", "rules", "rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 12 rules found" in checked.stdout
    tested = run(promtool, "test", "rules", "rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    config = run(promtool, "check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_alertmanager_route_pages_outages_and_mails_lost_dossiers_and_inhibits_per_dossier_alerts() -> None:
    amtool = str(debian.ensure(Path("/usr/bin/amtool"), "prometheus-alertmanager"))
    checked = run(amtool, "check-config", "alertmanager.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "6 inhibit rules" in checked.stdout

    def receiver(*labels: str) -> str:
        done = run(amtool, "config", "routes", "test", "--config.file=alertmanager.yml", *labels)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert receiver("alertname=LienthongAgencySilent", "severity=critical", "agency=hotich") == "ops-page"
    assert receiver("alertname=LienthongInfrastructureIncident", "severity=critical", "agency=cutru") == "ops-page"
    assert receiver("alertname=LienthongProcessDown", "severity=critical", "agency=bhxh", "process=bhxh") == "ops-page"
    assert receiver("alertname=LienthongDossiersLost", "severity=high", "agency=cutru") == "ops-page"
    assert receiver("alertname=LienthongDossiersStuck", "severity=medium", "agency=cutru") == "ops-webhook"
