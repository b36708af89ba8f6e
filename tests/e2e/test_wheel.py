"""The product as a wheel: a non-editable install into a clean virtualenv, used from another
directory, finds its own data (chains, topics, profiles, areas, the fault catalogue, each
agency's schema) and runs: `contract export`, the shipped profiles, and a run of a profile file
of the user's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from deploy.embedded import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", ".lienthong", "build", "*.egg-info", "test-artifacts", "reports", "tests", "__pycache__"
)


def install_wheel(tmp: Path) -> Path:
    """A clean virtualenv with the project installed from a copy of the source, not editable."""
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    venv = tmp / "venv"
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [str(uv), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(source)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(source)]
    done = subprocess.run(install, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_a_wheel_installed_elsewhere_exports_the_contract_and_runs_a_profile_file(tmp_path: Path) -> None:
    venv = install_wheel(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_") and k != "PYTHONPATH"}
    env.update(
        LT_HOME=str(elsewhere / "home"),
        LT_PORTAL_PORT=str(free_port()),
        LT_DASHBOARD_PORT=str(free_port()),
        PATH=f"{venv / 'bin'}:{env.get('PATH', '')}",
    )

    def lienthong(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "lienthong"), *args],
            env=env,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import runtime, scenarios; print(runtime.__file__); print(scenarios.DIR)"],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(str(venv) in w for w in where), f"not the installed copy: {where}"

    exported = lienthong("contract", "export", "--out", "contract")
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert (elsewhere / "contract" / "asyncapi.json").is_file()
    assert (elsewhere / "contract" / "schemas" / "handoff.sent.json").is_file()
    chains = json.loads((elsewhere / "contract" / "chains.json").read_text(encoding="utf-8"))
    assert {"birth", "death", "lltp"} <= set(chains)

    shipped = subprocess.run(
        [
            str(python),
            "-c",
            "from lienthong.workload import profiles; from simulation.faults.catalogue import load_scenario; "
            "print(profiles.available()); print(profiles.load('smoke').name, len(load_scenario('report-faults')))",
        ],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shipped.returncode == 0, shipped.stderr[-3000:]
    assert "smoke" in shipped.stdout
    assert "ha-tinh-2024-01" in shipped.stdout

    profile = elsewhere / "mine.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "mine",
                "description": "20 hồ sơ khai sinh, Hà Tĩnh",
                "province": "042",
                "period": {"start": date(2024, 3, 4), "days": 1},
                "volumes": {"birth": 20},
                "shares": {"birth": {"online": 1.0, "post": 0.0}},
                "arrival": "burst",
                "speed": 20000,
                "bad_data": {},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    try:
        run = lienthong("run", "--profile", str(profile), "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert summary["profile"] == "mine"
        assert summary["chains"]["birth"]["completed"] == 20, summary
        assert summary["chains"]["birth"]["in_progress"] == 0
    finally:
        down = lienthong("down")
    assert down.returncode == 0, down.stderr[-2000:]
