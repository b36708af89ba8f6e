"""The main jobs through the CLI, as a user runs them: the smoke run, the LLTP peak day (a new
simulation on the same stack), verify after each, status, a service killed and restarted, down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.embedded import free_port, pid_alive

pytestmark = pytest.mark.e2e
LIENTHONG = [sys.executable, "-m", "lienthong.cli"]


def lienthong(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LIENTHONG, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )


def last_json(out: str) -> dict:  # type: ignore[type-arg]
    return json.loads(out.strip().splitlines()[-1])


def test_smoke_run_then_lltp_peak_day_with_zero_violations(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / "home"), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    try:
        run = lienthong(env, "run", "--profile", "smoke", "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        summary = last_json(run.stdout)
        assert summary["profile"] == "smoke"
        assert summary["chains"]["birth"] == {
            "expected": 1000,
            "submitted": 1000,
            "accepted": 1000,
            "completed": 1000,
            "rejected": 0,
            "refused_at_portal": 0,
            "in_progress": 0,
            "duplicates": {"submitted": 0, "refused": 0},
        }
        assert summary["elapsed_s"] > 0
        assert summary["sim_days"] >= 1

        verify = lienthong(env, "verify", "--json")
        result = last_json(verify.stdout)
        assert verify.returncode == 0, verify.stderr
        assert result["violations"] == 0, result
        assert result["dossiers"] == {"completed": 1000}

        # The judicial-record desk's peak day: a new simulation on the same stack.
        run = lienthong(env, "run", "--profile", "lltp-peak-day", "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        lltp = last_json(run.stdout)["chains"]["lltp"]
        assert 300 <= lltp["submitted"] <= 400
        assert lltp["completed"] + lltp["rejected"] == lltp["submitted"], lltp
        assert lltp["in_progress"] == 0
        assert lltp["rejected"] > 0  # the profile's bad data, each refused with a reason
        assert all(v["not_refused"] == 0 for v in last_json(run.stdout)["bad_data"].values())
        verify = lienthong(env, "verify", "--json")
        result = last_json(verify.stdout)
        assert result["violations"] == 0, result
        # The monitor followed the run: its alerts list answers (alerts themselves are issue 4's bar).
        alerts = lienthong(env, "alerts", "--json")
        assert alerts.returncode == 0, alerts.stderr
        assert isinstance(last_json(alerts.stdout)["alerts"], list)
        # The reset left nothing of the smoke run: only this run's dossiers, every one finished.
        assert sum(result["dossiers"].values()) == lltp["accepted"]
        assert set(result["dossiers"]) <= {"completed", "rejected"}

        status = last_json(lienthong(env, "status", "--json").stdout)
        assert {c["component"]: c["healthy"] for c in status["components"]} == {
            "broker": True,
            "database": True,
            "portal": True,
            "motcua": True,
            "hotich": True,
            "cutru": True,
            "bhxh": True,
            "btxh": True,
            "lltp": True,
            "monitor": True,
            "dashboard": True,
        }
        pids = [c["pid"] for c in status["components"] if c["pid"]]
        assert len(pids) == 11

        # A service killed with kill -9 is restarted by the supervisor.
        hotich = next(c for c in status["components"] if c["component"] == "hotich")
        os.kill(hotich["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = last_json(lienthong(env, "status", "--json").stdout)
            row = next(c for c in now["components"] if c["component"] == "hotich")
            if row["healthy"] and row["pid"] != hotich["pid"]:
                break
            assert time.monotonic() < deadline, f"hotich not restarted: {row}"
            time.sleep(0.5)
        assert row["restarts"] >= 1
        pids.append(row["pid"])
    finally:
        down = lienthong(env, "down")
    assert down.returncode == 0, down.stderr
    assert not [p for p in pids if pid_alive(p)], "`lienthong down` left processes running"


def test_contract_export_writes_schemas_and_asyncapi(tmp_path: Path) -> None:
    out = lienthong(dict(os.environ), "contract", "export", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "asyncapi.json").exists()
    assert (tmp_path / "chains.json").exists()
    assert len(list((tmp_path / "schemas").glob("*.json"))) == 12
