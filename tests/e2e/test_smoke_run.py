"""The main jobs through the CLI, as a user runs them, from the product installed as a wheel (not
editable, into a clean virtualenv) and used from another directory: the contract exported, the
smoke run and a profile file of the user's own (a new simulation on the same stack), verify after
each, status, a service killed and restarted, down. The installed copy must
find its own data: chains, topics, profiles, areas, the fault catalogue, every schema."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts import adminunits
from deploy.embedded import free_port, pid_alive

pytestmark = pytest.mark.e2e
LIENTHONG = [sys.executable, "-m", "lienthong.cli"]
ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", ".lienthong", "build", "*.egg-info", "test-artifacts", "reports", "tests", "__pycache__"
)
Cli = Callable[..., subprocess.CompletedProcess[str]]


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


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv with the product and its simulation harness (`lienthong[simulation]`)
    installed from a copy of the source, not editable."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SHIPPED)
    venv = tmp / "venv"
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        subprocess.run([str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [
            str(uv),
            "pip",
            "install",
            "-q",
            "--compile-bytecode",
            # The workspace's sources would install the product editable, from the copy.
            "--no-sources",
            "--python",
            str(venv / "bin" / "python"),
            str(source),
            str(source / "harness"),
        ]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(source), str(source / "harness")]
    done = subprocess.run(install, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def elsewhere(venv: Path, tmp: Path) -> tuple[Cli, Path]:
    """The installed `lienthong`, run from a directory that is not the source tree."""
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_") and k != "PYTHONPATH"}
    env.update(LT_HOME=str(cwd / "home"), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"

    def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "lienthong"), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import runtime, scenarios; print(runtime.__file__, scenarios.DIR)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(str(venv) in w for w in where), f"not the installed copy: {where}"
    return cli, cwd


def my_profile(directory: Path) -> Path:
    """A profile file of the user's own, the 2025 reform rehearsed: two working days of Tuyên
    Quang across 1 July 2025, when it merged with Hà Giang and the district level went; and, to
    rehearse both at once, the criminal-record certificates switched to the police the same day
    (Tuyên Quang's own switch was on 1 March). The requests of 30 June are still in flight on 1
    July (a certificate takes days)."""
    path = directory / "mine.yaml"
    doc = {
        "name": "mine",
        "description": "Tuyên Quang qua ngày 01/7/2025: 16 hồ sơ khai sinh, 8 yêu cầu LLTP",
        "province": "008",
        "period": {"start": date(2025, 6, 30), "days": 2},
        "volumes": {"birth": 16, "lltp": 8},
        "shares": {"birth": {"online": 1.0, "post": 0.0}, "lltp": {"online": 1.0, "post": 0.5}},
        "lltp_issuer": {date(2025, 6, 30): "so_tu_phap", date(2025, 7, 1): "cong_an_tinh"},
        "arrival": "office-hours",
        "speed": 50000,
        "bad_data": {},
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def reform_reports(cli: Cli, cwd: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """June's report by district and July's by commune, as JSON."""
    out = {}
    for period, by in (("2025-06", "district"), ("2025-07", "commune")):
        made = cli("report", "--period", period, "--by", by, "--format", "json", "--out", "reports")
        assert made.returncode == 0, made.stderr[-3000:]
        out[period] = json.loads((cwd / "reports" / f"bao-cao-{period}-{by}.json").read_text(encoding="utf-8"))
    return out["2025-06"], out["2025-07"]


def peak_day_queue(cli: Cli, cwd: Path) -> None:
    """Hà Tĩnh's judicial-record desk on a peak day: 360 requests for the one officer on duty, who
    clears about 214 in an office day at the staffing's 2.7 minutes a request. The queue backs
    up all day, waits overnight and drains the next morning; the monitor catches every intake it
    made late (stuck at the desk) and raises nothing else."""
    run = cli("run", "--profile", "lltp-peak-day", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    summary = last_json(run.stdout)
    (desk,) = summary["queues"]
    assert (desk["agency"], desk["desk"], desk["officers"]) == ("motcua", "lltp/intake", 1), desk
    hours = desk["hours"]
    accepted = summary["chains"]["lltp"]["accepted"]
    assert sum(h["received"] for h in hours) == sum(h["taken_up"] for h in hours) == accepted > 300
    at_close = next(h for h in hours if h["hour"].startswith("2024-05-13T16"))
    # More than the officer's whole next morning of work still waits when the office closes.
    assert at_close["waiting"] >= 100, at_close
    assert desk["peak_waiting"] >= at_close["waiting"]
    assert str(desk["drained_at"]).startswith("2024-05-14"), desk
    assert hours[-1]["waiting"] == 0
    # Waiting time by hour: what the evening's requests waited overnight shows the next morning.
    morning = [h for h in hours if h["hour"].startswith("2024-05-14")]
    assert morning, hours
    assert all(h["wait_mean_min"] > 12 * 60 for h in morning if h["taken_up"]), morning
    # The month's report shows the queue too, from the event log: every request taken up, and the
    # evening's waiting through the next morning's office hours.
    made = cli("report", "--period", "2024-05", "--by", "province", "--format", "json", "--out", "reports")
    assert made.returncode == 0, made.stderr[-3000:]
    report = json.loads((cwd / "reports" / "bao-cao-2024-05-province.json").read_text(encoding="utf-8"))
    lltp = next(r for r in report["rows"] if r["flow"] == "lltp" and r["area"] == "Tổng cộng")
    assert lltp["taken_up"] == accepted, lltp
    assert lltp["wait_max_minutes"] > 3 * 60, lltp  # the last of the evening: into the next afternoon
    assert 0 < lltp["wait_mean_minutes"] < lltp["wait_max_minutes"], lltp
    scored = cli("score", "--json")
    assert scored.returncode == 0, scored.stderr[-3000:]
    verdict = last_json(scored.stdout)
    # The queue's verdicts: per dossier, as the smoke run's (one CI run saw 7 agency silences at
    # once in this run, every agency, unexplained: noticed in the note, not this check's).
    assert (verdict["false_alerts"]["lost"], verdict["false_alerts"]["stuck"]) == (0, 0), verdict
    late = verdict["by_fault"]["officer-queue"]
    assert late["expected"] > 0, late
    assert late["caught"] == late["expected"], late


TUYEN_QUANG_LLTP = {
    "received": 491,
    "carried_over": 233,
    "to_resolve": 724,
    "resolved": 435,
    "returned_by_post": 231,
    "in_progress": 289,
    "resolved_fee_bearing": 305,
    "resolved_free": 130,
    # "đã giải quyết 435 hồ sơ trước và đúng hạn", "còn 289 hồ sơ trong hạn": none late, none overdue.
    "resolved_on_time": 435,
    "resolved_late": 0,
    "overdue": 0,
}
"""Tuyên Quang's judicial-record table for 14/12/2023–13/01/2024, as its report publishes it."""


def tuyen_quang_table(cli: Cli, cwd: Path) -> None:
    """A warm-started run of Tuyên Quang's reporting period (the 233 requests carried over into it
    submitted through the portal on its eve) whose report, made from the monitor's event log,
    gives the department's published table line by line; and the monitor raises nothing false."""
    run = cli("run", "--profile", "tuyen-quang-2024-01-lltp", "--json")
    assert run.returncode == 0, run.stderr[-3000:]
    summary = last_json(run.stdout)
    assert (summary["chains"]["lltp"]["expected"], summary["chains"]["lltp"]["accepted"]) == (724, 724)
    made = cli("report", "--from", "2023-12-14", "--to", "2024-01-13", "--by", "province", "--format", "json")
    assert made.returncode == 0, made.stderr[-3000:]
    report = json.loads((cwd / "reports" / "bao-cao-2023-12-14_2024-01-13-province.json").read_text(encoding="utf-8"))
    total = next(r for r in report["rows"] if r["flow"] == "lltp" and r["area"] == "Tổng cộng")
    assert {k: total[k] for k in TUYEN_QUANG_LLTP} == TUYEN_QUANG_LLTP, total
    # After the period the officer's backlog, still growing when it ended, makes a few requests
    # late: each one caught, as the queue's ground truth says, and nothing else raised.
    scored = cli("score", "--json")
    assert scored.returncode == 0, scored.stderr[-3000:]
    verdict = last_json(scored.stdout)
    assert not any(verdict["false_alerts"].values()), verdict
    assert set(verdict["by_fault"]) <= {"officer-queue"}, verdict["by_fault"]


def test_smoke_run_then_a_profile_file_with_zero_violations(installed: Path, tmp_path: Path) -> None:
    cli, cwd = elsewhere(installed, tmp_path)

    try:
        # Governed, beside a load on both cores (an integrator's busy CI machine): the run slows
        # down, and its verdicts do not change. Ungoverned on a quiet machine, this burst stamped
        # 3,889 events late and raised 828 false lost and stuck findings.
        spin = "import time\nend = time.monotonic() + 300\nwhile time.monotonic() < end: pass"
        hogs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]  # bounded: 300 s at most
        try:
            run = cli("run", "--profile", "smoke", "--governor", "--json")
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
        assert run.returncode == 0, run.stderr[-3000:]
        summary = last_json(run.stdout)
        assert summary["profile"] == "smoke"
        assert summary["stamping"]["clamped"] == 0, summary["stamping"]
        assert summary["governor"]["proofs"] > 0, summary["governor"]
        scored = cli("score", "--json")
        assert scored.returncode == 0, scored.stderr[-3000:]
        verdict = last_json(scored.stdout)
        assert verdict["faults_recorded"] == 0
        assert (verdict["false_alerts"]["lost"], verdict["false_alerts"]["stuck"]) == (0, 0), verdict
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

        verify = cli("verify", "--json")
        result = last_json(verify.stdout)
        assert verify.returncode == 0, verify.stderr
        assert result["violations"] == 0, result
        assert result["dossiers"] == {"completed": 1000}

        # A profile file of the user's own: a new simulation on the same stack, across the reform.
        run = cli("run", "--profile", str(my_profile(cwd)), "--json")
        assert run.returncode == 0, run.stderr[-3000:]
        mine = last_json(run.stdout)
        assert mine["profile"] == "mine"
        assert (mine["chains"]["birth"]["completed"], mine["chains"]["lltp"]["completed"]) == (16, 8), mine
        verify = cli("verify", "--json")
        result = last_json(verify.stdout)
        assert result["violations"] == 0, result
        # The reset left nothing of the smoke run: only this run's dossiers, every one finished.
        assert result["dossiers"] == {"completed": 24}
        # Nothing false at the boundary: no fault, so no alert at all.
        alerts = cli("alerts", "--json")
        assert alerts.returncode == 0, alerts.stderr
        assert last_json(alerts.stdout)["alerts"] == []
        # June counts in the old province's districts; July in the merged province's communes and
        # wards, the June requests still in flight carried over into them.
        june, july = reform_reports(cli, cwd)
        old = {u.district for u in adminunits.legacy("008")}
        new = {u.commune for u in adminunits.current("008")}
        june_areas = {r["area"] for r in june["rows"] if r["area"] != "Tổng cộng"}
        july_areas = {r["area"] for r in july["rows"] if r["area"] != "Tổng cộng"}
        assert june_areas, june
        assert june_areas <= old, june_areas - old
        assert july_areas, july
        assert july_areas <= new, july_areas - new
        june_all = next(r for r in june["rows"] if r["flow"] == "all" and r["area"] == "Tổng cộng")
        july_all = next(r for r in july["rows"] if r["flow"] == "all" and r["area"] == "Tổng cộng")
        assert june_all["received"] + july_all["received"] == 24
        assert july_all["carried_over"] == june_all["in_progress"] > 0, (june_all, july_all)

        peak_day_queue(cli, cwd)
        tuyen_quang_table(cli, cwd)

        status = last_json(cli("status", "--json").stdout)
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
            "dancu": True,
            "monitor": True,
            "dashboard": True,
        }
        pids = [c["pid"] for c in status["components"] if c["pid"]]
        assert len(pids) == 12  # the broker, PostgreSQL, the portal, seven agencies, the monitor, the dashboard

        # A service killed with kill -9 is restarted by the supervisor.
        hotich = next(c for c in status["components"] if c["component"] == "hotich")
        os.kill(hotich["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = last_json(cli("status", "--json").stdout)
            row = next(c for c in now["components"] if c["component"] == "hotich")
            if row["healthy"] and row["pid"] != hotich["pid"]:
                break
            assert time.monotonic() < deadline, f"hotich not restarted: {row}"
            time.sleep(0.5)
        assert row["restarts"] >= 1
        pids.append(row["pid"])
    finally:
        down = cli("down")
    assert down.returncode == 0, down.stderr
    assert not [p for p in pids if pid_alive(p)], "`lienthong down` left processes running"


def test_contract_export_writes_schemas_and_asyncapi(installed: Path, tmp_path: Path) -> None:
    cli, cwd = elsewhere(installed, tmp_path)
    out = cli("contract", "export", "--out", "contract")
    assert out.returncode == 0, out.stderr
    assert (cwd / "contract" / "asyncapi.json").exists()
    assert "## Keys and partitions" in (cwd / "contract" / "contract.md").read_text(encoding="utf-8")
    chains = json.loads((cwd / "contract" / "chains.json").read_text(encoding="utf-8"))
    assert {"birth", "death", "lltp"} <= set(chains)
    assert len(list((cwd / "contract" / "schemas").glob("*.json"))) == 12
