"""The planned submission time is the simulation's business: the platform's production answer
ignores the workload's header, and only the simulation's port reads it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from runtime.settings import Settings
from runtime.simulation import PRODUCTION
from simulation.port import SIM_TIME_HEADER, FaultSettings, SimulatedTime, from_settings

PLANNED = "2024-01-08T09:15:00+07:00"


def test_production_stamps_now_whatever_the_request_claims() -> None:
    assert PRODUCTION.planned_submission({SIM_TIME_HEADER: PLANNED}) is None


def test_a_simulation_reads_the_planned_time_and_ignores_a_malformed_one() -> None:
    sim = SimulatedTime()
    assert sim.planned_submission({SIM_TIME_HEADER: PLANNED}) == datetime.fromisoformat(PLANNED)
    assert sim.planned_submission({SIM_TIME_HEADER: "yesterday"}) is None
    assert sim.planned_submission({SIM_TIME_HEADER: "2024-01-08T09:15:00"}) is None  # no offset
    assert sim.planned_submission({}) is None


def test_the_port_plugs_in_only_on_a_simulated_clock(tmp_path: Path) -> None:
    assert from_settings(Settings(home=tmp_path)) is None
    simulated = from_settings(Settings(home=tmp_path, sim_epoch="2024-01-01T08:00:00+07:00"))
    assert isinstance(simulated, SimulatedTime)


def test_the_faults_travel_opaque_to_the_platform_and_come_back_whole(tmp_path: Path) -> None:
    asked = FaultSettings(faults="report-faults", start="2024-01-01T00:00:00+07:00", days=31.0)
    carried = Settings(home=tmp_path, simulation=asked.encode())
    assert FaultSettings.of(carried) == asked
    assert FaultSettings.of(Settings(home=tmp_path)) == FaultSettings()


def test_a_malformed_simulation_setting_is_refused_naming_it(tmp_path: Path) -> None:
    for bad in ('{"faults": "none", "colour": "red"}', "not json"):
        with pytest.raises(ValueError, match="LT_SIMULATION"):
            FaultSettings.of(Settings(home=tmp_path, simulation=bad))
