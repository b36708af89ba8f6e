"""A run's sim clock starts only once the broker and PostgreSQL are up."""

from __future__ import annotations

from typing import Any

import pytest

from deploy import stack
from runtime.settings import Settings
from runtime.terminal import Console
from simulation import bootstrap
from simulation.bootstrap import RunRequest


class Stop(Exception):
    pass


def test_the_clock_is_set_after_the_broker_and_the_database_are_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the faults e2e run: on a cold stack the anchor was set before PostgreSQL and the
    broker started, their start ate the whole lead, and the monitor began 4.7 s (32 sim hours)
    behind the clock; every lost alert due meanwhile opened a day late."""
    order: list[str] = []

    def infra(settings: Settings, _console: Console) -> tuple[Settings, dict[str, Any]]:
        order.append("infra")
        return settings, {}

    def lead(_home: Any) -> float:
        order.append("clock")
        return 10.0

    def start_fresh(*_args: Any) -> Settings:
        order.append("services")
        raise Stop

    monkeypatch.setattr(stack, "ensure_infra", infra)
    monkeypatch.setattr(bootstrap, "run_lead", lead)
    monkeypatch.setattr(stack, "start_fresh", start_fresh)
    with pytest.raises(Stop):
        bootstrap.execute(RunRequest(profile="smoke", governor=False), Settings(), Console(quiet=True))
    assert order == ["infra", "clock", "services"]
