"""Chaos plans as data: `every` expands over the processes the run starts, strikes are spread
evenly over the plan's share of the period, the plan becomes a fault scenario the catalogue's
loader accepts, and a broken plan is refused naming the file and the key."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from contracts.config import ConfigError
from simulation import chaosplan
from simulation.faults.catalogue import load_scenario


def plan_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_every_kill_expands_over_each_process_and_replica_the_run_starts() -> None:
    planned = chaosplan.strikes(chaosplan.load("full"))
    kills = [s.target for s in planned if s.effect == "kill"]
    # all=2: two of every agency and of the monitor; the dashboard runs once.
    for name in ("portal", "portal-2", "hotich", "hotich-2", "lltp-2", "monitor", "monitor-2", "dashboard", "broker"):
        assert name in kills
    assert "dashboard-2" not in kills
    assert len(kills) == 8 * 2 + 2 + 1 + 1
    drops = [s.target for s in planned if s.effect == "drop_connections"]
    assert drops == ["portal", "motcua", "hotich", "cutru", "bhxh", "btxh", "lltp", "dancu"]


def test_strikes_are_spread_evenly_from_first_to_last_share() -> None:
    plan = chaosplan.load("short")
    planned = chaosplan.strikes(plan)
    times = [s.at for s in planned]
    assert times[0] == plan.between[0]
    assert times[-1] == pytest.approx(plan.between[1])
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(times)}
    assert len(gaps) == 1
    assert [s.target for s in planned] == ["monitor-2", "hotich", "cutru", "bhxh", "dashboard", "broker"]
    assert [(s.effect, s.seconds) for s in planned if s.target == "bhxh"] == [("freeze", 25)]


def test_replicas_on_the_command_line_change_what_every_means() -> None:
    plan = chaosplan.load("full")
    kills = [s.target for s in chaosplan.strikes(plan, {"hotich": 3}) if s.effect == "kill"]
    assert {"hotich", "hotich-2", "hotich-3"} <= set(kills)
    assert "cutru-2" not in kills


def test_the_plan_becomes_a_scenario_the_fault_loader_accepts(tmp_path: Path) -> None:
    plan = chaosplan.load("short")
    planned = chaosplan.strikes(plan)
    path = tmp_path / "chaos.yaml"
    path.write_text(yaml.safe_dump(chaosplan.scenario_doc(plan, planned)), encoding="utf-8")
    faults = {f.name: f for f in load_scenario(str(path))}
    assert set(faults) == {s.name for s in planned}
    broker = faults["chaos-kill-broker"]
    assert (broker.effect, broker.target, broker.window is not None) == ("kill", {"process": "broker"}, True)
    assert broker.window is not None
    assert broker.window.at == plan.between[1]
    assert faults["chaos-drop-connections-hotich"].effect == "drop_connections"
    frozen = faults["chaos-freeze-bhxh"]
    assert (frozen.effect, frozen.target, frozen.params) == ("freeze", {"process": "bhxh"}, {"seconds": 25})


def test_a_process_named_twice_is_struck_once(tmp_path: Path) -> None:
    path = plan_file(tmp_path, "name: twice\nactions: [{kill: cutru}, {kill: cutru}, {kill: broker}]\n")
    assert [s.target for s in chaosplan.strikes(chaosplan.load(str(path)))] == ["cutru", "broker"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: x\nactions: [{kill: cutru}]\nkills: 3\n", "kills: Extra inputs are not permitted"),
        ("name: x\nactions: [{kill: payroll}]\n", "actions.0: Value error, kill: unknown process 'payroll'"),
        ("name: x\nactions: [{kill: cutru, drop_connections: cutru}]\n", "actions.0: Value error, each action is"),
        ("name: x\nactions: [{drop_connections: broker}]\n", "actions.0: Value error, drop_connections: unknown"),
        ("name: x\nbetween: [0.9, 0.1]\nactions: [{kill: cutru}]\n", "Value error, between"),
        ("name: x\nreplicas: hotich=99\nactions: [{kill: cutru}]\n", "replicas: Value error, --replicas hotich=99"),
        ("name: x\nactions: []\n", "actions: List should have at least 1 item"),
        ("name: x\nactions: [{freeze: broker}]\n", "actions.0: Value error, freeze: unknown process 'broker'"),
        ("name: x\nactions: [{kill: cutru, seconds: 5}]\n", "actions.0: Value error, seconds: only a freeze lasts"),
        ("name: x\nactions: [{freeze: cutru, seconds: 0}]\n", "actions.0.seconds: Input should be greater than 0"),
        ("name: x\nactions: [{freeze: cutru, kill: cutru}]\n", "actions.0: Value error, each action is"),
    ],
)
def test_a_broken_plan_is_refused_naming_the_file_and_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = plan_file(tmp_path, body)
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: ") + ".*" + re.escape(message)):
        chaosplan.load(str(path))


def test_a_replica_the_run_does_not_start_is_refused(tmp_path: Path) -> None:
    path = plan_file(tmp_path, "name: x\nactions: [{kill: hotich-2}]\n")
    with pytest.raises(ConfigError, match="strikes hotich-2, which the run does not start"):
        chaosplan.strikes(chaosplan.load(str(path)))
    assert [s.target for s in chaosplan.strikes(chaosplan.load(str(path)), {"hotich": 2})] == ["hotich-2"]


def test_an_unknown_plan_lists_the_available_ones() -> None:
    with pytest.raises(ValueError, match="no chaos plan 'nope'; available: full, short"):
        chaosplan.load("nope")
