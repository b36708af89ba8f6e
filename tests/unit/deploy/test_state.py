"""The stack's records are read and written through `deploy.state` alone: commands run after
`lienthong up` find the stack's addresses and the last run's clock there, and no other module
opens the files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploy.state import StackState, settings_from_env
from tests.unit.product_scan import ROOT, product_modules, strings

RECORDS = ("stack.json", "services.json", "supervisor.json")


def test_a_record_round_trips_without_its_in_process_handles(tmp_path: Path) -> None:
    state = StackState(tmp_path)
    with subprocess.Popen(["true"]) as proc:
        state.save_stack({"broker": {"kind": "tansu", "pid": proc.pid, "port": 9, "_process": proc}, "ready_s": 1.5})
    assert state.stack() == {"broker": {"kind": "tansu", "pid": proc.pid, "port": 9}, "ready_s": 1.5}
    assert not list(tmp_path.glob("*.tmp"))


def test_a_missing_or_torn_record_reads_as_empty(tmp_path: Path) -> None:
    state = StackState(tmp_path)
    assert (state.stack(), state.services(), state.supervisor()) == ({}, {}, {})
    (tmp_path / "services.json").write_text('{"services": {"portal": 80')
    assert state.ports() == {}
    assert state.broker_kind() == "tansu"


def test_ports_pids_and_the_broker_kind_come_from_their_records(tmp_path: Path) -> None:
    state = StackState(tmp_path)
    state.save_services({"services": {"portal": 8080, "hotich": 9001}, "modules": {}, "env": {}})
    state.save_supervisor({"pid": 7, "services": {"hotich": {"pid": 4242, "port": 9001, "restarts": 0}}})
    state.save_stack({"broker": {"kind": "kafka", "nodes": []}})
    assert state.ports() == {"portal": 8080, "hotich": 9001}
    assert (state.pid_of("hotich"), state.pid_of("portal")) == (4242, None)
    assert state.broker_kind() == "kafka"
    state.forget_supervisor()
    state.forget_stack()
    assert (state.supervisor(), state.stack()) == ({}, {})


def test_a_command_after_up_reads_the_stack_s_addresses_and_last_clock(tmp_path: Path) -> None:
    StackState(tmp_path).save_stack(
        {
            "kafka_bootstrap": "127.0.0.1:9092",
            "database_url": "postgresql://127.0.0.1:5432/lienthong",
            "clock": {"sim_epoch": "2024-01-01T00:00:00+07:00", "sim_anchor": 100.0, "sim_speed": 600.0},
        }
    )
    s = settings_from_env({"LT_HOME": str(tmp_path)})
    assert (s.kafka_bootstrap, s.database_url, s.sim_epoch, s.sim_speed) == (
        "127.0.0.1:9092",
        "postgresql://127.0.0.1:5432/lienthong",
        "2024-01-01T00:00:00+07:00",
        600.0,
    )


def test_the_environment_wins_over_the_record_and_its_clock_comes_whole(tmp_path: Path) -> None:
    StackState(tmp_path).save_stack(
        {"kafka_bootstrap": "127.0.0.1:9092", "clock": {"sim_epoch": "2024-01-01T00:00:00+07:00", "sim_speed": 600.0}}
    )
    s = settings_from_env(
        {"LT_HOME": str(tmp_path), "LT_KAFKA_BOOTSTRAP": "10.0.0.1:9092", "LT_SIM_EPOCH": "2025-07-01T00:00:00+07:00"}
    )
    # A clock set in the environment is not mixed with the recorded run's speed.
    assert (s.kafka_bootstrap, s.sim_epoch, s.sim_speed) == ("10.0.0.1:9092", "2025-07-01T00:00:00+07:00", 1.0)


def _opens_a_record(path: Path) -> list[str]:
    return [text for text in strings(path.read_text(encoding="utf-8")) if text in RECORDS]


def test_only_deploy_state_names_the_record_files() -> None:
    modules = product_modules()
    owner = ROOT / "deploy" / "state.py"
    assert _opens_a_record(owner), "the scan must find the owner's own file names"
    strays = {str(p.relative_to(ROOT)): found for p in modules if p != owner and (found := _opens_a_record(p))}
    assert strays == {}
