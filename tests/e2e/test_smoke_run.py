"""The main job through the CLI, as a user runs it: up, smoke run, verify, status, down."""

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


def test_smoke_run_moves_1000_birth_chains_with_zero_violations(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / "home"), LT_PORTAL_PORT=str(free_port()))
    try:
        run = lienthong(env, "run", "--profile", "smoke", "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        summary = last_json(run.stdout)
        assert summary["profile"] == "smoke"
        assert summary["chains"]["birth"] == {
            "expected": 1000,
            "submitted": 1000,
            "refused_at_portal": 0,
            "completed": 1000,
            "rejected": 0,
            "in_progress": 0,
        }
        assert summary["elapsed_s"] > 0

        verify = lienthong(env, "verify", "--json")
        result = last_json(verify.stdout)
        assert verify.returncode == 0, verify.stderr
        assert result["violations"] == 0, result
        assert result["dossiers"] == {"completed": 1000}

        status = last_json(lienthong(env, "status", "--json").stdout)
        assert {c["component"]: c["healthy"] for c in status["components"]} == {
            "broker": True,
            "database": True,
            "portal": True,
            "motcua": True,
            "hotich": True,
            "cutru": True,
            "bhxh": True,
        }
        pids = [c["pid"] for c in status["components"] if c["pid"]]
        assert len(pids) == 7

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
    assert len(list((tmp_path / "schemas").glob("*.json"))) == 11
