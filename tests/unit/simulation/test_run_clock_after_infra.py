"""The run's composition root (`simulation/bootstrap.py: execute`) on fake ports: it starts the
infrastructure before it sets the clock, hands the services the run's clock and fault settings,
and reports what its ports said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.state import StackRecord
from runtime.settings import Settings
from runtime.terminal import Console
from simulation import bootstrap
from simulation.bootstrap import Ports, RunRequest, exit_code
from simulation.port import FaultSettings


class Stop(Exception):
    pass


class FakeStack:
    def __init__(self, order: list[str], stop: bool = False) -> None:
        self.order = order
        self.stop = stop
        self.started: dict[str, Any] = {}

    def ensure_infra(self, settings: Settings, _console: Console) -> tuple[Settings, StackRecord]:
        self.order.append("infra")
        return settings, {}

    def start_fresh(
        self,
        settings: Settings,
        _console: Console,
        external: list[str],
        clock: dict[str, str | float],
        env: dict[str, str],
        replicas: dict[str, int] | None = None,
    ) -> Settings:
        self.order.append("services")
        if self.stop:
            raise Stop
        self.started = {"external": external, "clock": clock, "env": env, "replicas": replicas}
        return settings.replace(**clock)


def ports(fake: FakeStack, summary: dict[str, Any], waiting: dict[str, str] | None = None) -> Ports:
    async def run(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        fake.order.append("run")
        return summary

    async def ready(_home: Path, _since: float) -> float | None:
        return 3.5

    async def stamping(_home: Path) -> dict[str, Any]:
        return {"lag_max_s": 0.4, "clamped": 0}

    async def where(_settings: Settings) -> dict[str, str]:
        return waiting or {}

    return Ports(stack=fake, run=run, ready=ready, stamping=stamping, waiting=where)


def test_the_clock_is_set_after_the_broker_and_the_database_are_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found by the faults e2e run: on a cold stack the anchor was set before PostgreSQL and the
    broker started, their start ate the whole lead, and the monitor began 4.7 s (32 sim hours)
    behind the clock; every lost alert due meanwhile opened a day late."""
    order: list[str] = []

    def lead(_home: Any) -> float:
        order.append("clock")
        return 10.0

    monkeypatch.setattr(bootstrap, "run_lead", lead)
    fake = FakeStack(order, stop=True)
    with pytest.raises(Stop):
        bootstrap.execute(
            RunRequest(profile="smoke", governor=False), Settings(home=tmp_path), Console(quiet=True), ports(fake, {})
        )
    assert order == ["infra", "clock", "services"]


def test_a_run_hands_the_services_its_clock_and_faults_and_reports_what_its_ports_said(tmp_path: Path) -> None:
    order: list[str] = []
    fake = FakeStack(order)
    summary = {"chains": {"birth": {"accepted": 3, "in_progress": 1}}, "fault_errors": []}
    request = RunRequest(profile="smoke", governor=False, faults="report-faults", speed=600.0)
    done = bootstrap.execute(
        request, Settings(home=tmp_path), Console(quiet=True), ports(fake, summary, {"d-1": "hotich/register_birth"})
    )
    assert order == ["infra", "services", "run"]
    env = fake.started["env"]
    assert env["LT_SIM_SPEED"] == "600.0"
    assert FaultSettings.model_validate_json(env["LT_SIMULATION"]).faults == "report-faults"
    assert fake.started["clock"]["sim_clock_file"] == str(tmp_path.resolve() / "clock.json")
    assert (tmp_path / "clock.json").exists()  # a steady run's one segment, written before the services start
    assert done["ready_s"] == 3.5
    assert done["stamping"] == {"bound_s": Settings().sim_max_lag_s, "lag_max_s": 0.4, "clamped": 0}
    assert done["in_progress"] == 1
    assert done["waiting_at"] == {"hotich/register_birth": 1}
    # A fault scenario holds dossiers on purpose: unfinished ones do not fail it.
    assert exit_code(done, allow_unfinished=True) == 0
    assert exit_code(done, allow_unfinished=False) == 1
