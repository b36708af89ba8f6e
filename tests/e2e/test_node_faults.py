"""Faults nobody announces, on the product's own 3-node Apache Kafka cluster, secured as `lienthong
up --broker kafka` makes it (TLS on every listener, a SASL/SCRAM principal per process, ACLs): a
fault-free week of all three flows while this test, from outside the product, freezes one node
with SIGSTOP for 15 s and later kills another with `kill -9` and leaves it dead. The product is
told nothing; the run's clock learns of the faults only by the proofs of progress that stop
coming (docs/time.md, "The governed clock"). Every dossier finishes, nothing is violated, the
monitor raises no alert (none can be explained: no fault is recorded), and no stamp is clamped.
Then, on the same cluster, what it must refuse (tests/e2e/secured.py): an agency writing to
another agency's topic (an authorization error, logged by the brokers), a wrong password, a
client without SASL, a plain-text client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from contracts.clock import VN_TZ
from deploy.embedded import free_port, pid_alive
from runtime.clockfile import read_segments
from tests.e2e import secured
from tests.e2e.test_smoke_run import LIENTHONG, last_json, lienthong

pytestmark = pytest.mark.e2e

PROFILE = {
    "name": "node-faults-week",
    "description": "Hà Tĩnh, một tuần không có sự cố nghiệp vụ: 120 yêu cầu LLTP, 80 khai sinh, 30 khai tử",
    "province": "042",
    "period": {"start": "2024-01-08", "days": 7},
    "volumes": {"birth": 80, "death": 30, "lltp": 120},
    "shares": {
        "birth": {"online": 1.0, "post": 0.0},
        "death": {"online": 1.0, "post": 0.0},
        "lltp": {"online": 0.589, "post": 0.531, "fee_paid_online": 1.0},
    },
    "arrival": "office-hours",
    "speed": 25000,
    "bad_data": {},
}
STALL_AT = datetime(2024, 1, 9, 10, 0, tzinfo=VN_TZ)
"""Tuesday mid-morning: dossiers of all three flows in flight."""
KILL_AT = datetime(2024, 1, 11, 10, 0, tzinfo=VN_TZ)
STALL_S = 15.0


def sim_now(home: Path) -> datetime | None:
    """The run's sim time, read as any process of the stack reads it (its clock file)."""
    path = home / "clock.json"
    try:
        segments = read_segments(path)
    except (OSError, ValueError, KeyError):
        return None
    now = time.time()
    current = [s for s in segments if s.anchor <= now]
    return current[-1].at(now) if current else None


def wait_for_sim(home: Path, at: datetime, run: subprocess.Popen[str], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        now = sim_now(home)
        if now is not None and now >= at:
            return
        assert run.poll() is None, "the run ended before the fault was due"
        time.sleep(0.05)
    raise AssertionError(f"sim time did not reach {at} in {limit_s} s")


def node_pids(home: Path) -> list[int]:
    broker = json.loads((home / "stack.json").read_text(encoding="utf-8"))["broker"]
    assert broker["kind"] == "kafka", broker
    return [int(n["pid"]) for n in broker["nodes"]]


def test_a_frozen_node_and_a_dead_node_unannounced_raise_no_alert_and_clamp_no_stamp(tmp_path: Path) -> None:
    profile = tmp_path / "node-faults-week.yaml"
    profile.write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(home), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    run_args = ["run", "--profile", str(profile), "--broker", "kafka", "--faults", "none", "--settle", "10", "--json"]
    cmd = [*LIENTHONG, *run_args]
    out, err = tmp_path / "run.out", tmp_path / "run.err"
    struck: list[str] = []
    try:
        with out.open("w") as o, err.open("w") as e:
            run = subprocess.Popen(cmd, env=env, stdout=o, stderr=e, text=True)
            try:
                wait_for_sim(home, STALL_AT, run, 600)
                frozen, dead = node_pids(home)[0], node_pids(home)[1]
                os.kill(frozen, signal.SIGSTOP)
                struck.append(f"SIGSTOP {frozen} at {sim_now(home)}")
                time.sleep(STALL_S)
                os.kill(frozen, signal.SIGCONT)
                wait_for_sim(home, KILL_AT, run, 600)
                os.kill(dead, signal.SIGKILL)
                struck.append(f"kill -9 {dead} at {sim_now(home)}")
                assert run.wait(timeout=900) == 0, err.read_text()[-3000:]
            finally:
                if run.poll() is None:
                    run.kill()
                    run.wait()
        assert not pid_alive(dead), "the killed node was left dead"
        summary = last_json(out.read_text())
        for chain, counts in summary["chains"].items():
            assert counts["in_progress"] == 0, (chain, counts)
            assert counts["completed"] + counts["rejected"] == counts["accepted"], (chain, counts)
        assert summary["stamping"]["clamped"] == 0, summary["stamping"]
        assert summary["governor"]["held_s"] > 0, summary["governor"]
        scored = lienthong(env, "score", "--json")
        assert scored.returncode == 0, scored.stderr[-3000:]
        verdict = last_json(scored.stdout)
        assert verdict["faults_recorded"] == 0, verdict
        assert verdict["silent_losses"] == 0, verdict
        assert set(verdict["false_alerts"].values()) == {0}, (struck, verdict["false_alerts"])
        # The figures the docs quote for this run: how long sim time was held, by whom, and the
        # infrastructure incidents the stall raised (each one is judged by `score` above).
        checked = lienthong(env, "verify", "--json")
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        alerts = last_json(lienthong(env, "alerts", "--json").stdout)["alerts"]
        kinds = Counter(a["kind"] for a in alerts)
        print(json.dumps({"governor": summary["governor"], "incidents_by_kind": kinds, "struck": struck}))
        refused = asyncio.run(secured.refusals(home))
        assert refused["own topic"] == "written", refused
        assert refused["another agency's topic"] == "TopicAuthorizationFailedError", refused
        # Each of these raised a Kafka error at start (secured.refusals fails when one is accepted).
        assert {"wrong password", "no credentials (TLS only)", "plain text"} < set(refused), refused
        assert secured.denials(home, "lltp", "lt.work.cutru"), "the brokers did not log the denied write"
        print(json.dumps(refused))
    finally:
        down = lienthong(env, "down")
        print("\n".join(struck), (tmp_path / "run.err").read_text()[-2000:] if err.exists() else "")
    assert down.returncode == 0, down.stderr
