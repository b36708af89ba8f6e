"""A short Locust soak through the CLI, as a rollout team runs it: every request answered as it
must be, every accepted dossier followed to its end through the monitor, Locust's reports written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.embedded import free_port
from tests.e2e.test_smoke_run import last_json, lienthong

pytestmark = pytest.mark.e2e


def test_soak_smoke_loses_nothing_and_writes_locust_reports(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / "home"), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    out = tmp_path / "results"
    try:
        done = lienthong(
            env,
            "loadtest",
            "--shape",
            "soak",
            "--users",
            "4",
            "--duration",
            "12",
            "--set",
            "RPS=4",
            "--set",
            "INVALID=0.2",
            "--out",
            str(out),
            "--json",
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = last_json(done.stdout)
        assert result["shape"] == "soak"
        assert result["failures"] == 0, (out / "soak" / "locust_failures.csv").read_text()
        assert result["requests"] > 20
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
        e2e = result["e2e"]
        assert e2e["accepted"] > 10
        assert e2e["silent_losses"] == 0, e2e
        assert e2e["finished"] + e2e["alerted"] == e2e["accepted"]
        for name in ("locust_stats.csv", "locust_failures.csv", "locust.html", "accepted.json"):
            assert (out / "soak" / name).stat().st_size > 0, name
    finally:
        down = lienthong(env, "down")
    assert down.returncode == 0, down.stderr
