"""The short chaos run, through the CLI as an operator runs it: a fault-free day of birth dossiers
on the embedded broker while the `short` plan kills a monitor worker, the residence agency, the
dashboard and the broker, and cuts civil status's PostgreSQL connections. Every kill recovers,
nothing is lost in silence, nothing is applied twice, and the monitor raises nothing the
harness's recorded facts (what each strike caught in flight, by id) do not explain. The full
matrix on both brokers is in docs/reliability.md."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from deploy.embedded import free_port
from tests.e2e.test_smoke_run import last_json, lienthong

pytestmark = pytest.mark.e2e

PROFILE = {
    "name": "chaos-day",
    "description": "Một ngày làm việc ở Hà Tĩnh: 200 hồ sơ khai sinh",
    "province": "042",
    "period": {"start": "2024-03-04", "days": 1},
    "volumes": {"birth": 200},
    "shares": {"birth": {"online": 1.0, "post": 0.0}},
    "arrival": "office-hours",
    "speed": 40000,
    "bad_data": {},
}
"""Dossiers arriving through the office day, when the plan strikes (08:24 to 18:00)."""


def test_short_chaos_loses_nothing_violates_nothing_and_raises_nothing_unexplained(tmp_path: Path) -> None:
    profile = tmp_path / "chaos-day.yaml"
    profile.write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LT_")}
    env.update(LT_HOME=str(tmp_path / "home"), LT_PORTAL_PORT=str(free_port()), LT_DASHBOARD_PORT=str(free_port()))
    try:
        done = lienthong(env, "chaos", "--plan", "short", "--profile", str(profile), "--settle", "10", "--json")
        assert done.stdout.strip(), done.stderr[-3000:]
        verdict = last_json(done.stdout)
        assert done.returncode == 0, (verdict, done.stderr[-3000:])
    finally:
        down = lienthong(env, "down")
    assert down.returncode == 0, down.stderr
    assert (verdict["plan"], verdict["broker"]) == ("short", "tansu")
    assert verdict["kills"] == 4, verdict
    assert verdict["connection_cuts"] == 1, verdict
    assert verdict["recovered"] == 4, verdict
    assert verdict["fault_errors"] == 0, verdict
    assert verdict["accepted"] == 200, verdict
    assert verdict["silent_losses"] == 0, verdict
    assert verdict["violations"] == 0, verdict
    assert verdict["false_alerts"] == 0, verdict
    assert verdict["unfinished"] == 0, verdict
    assert verdict["clamped"] == 0, verdict
    assert verdict["elapsed_s"] > 0
