"""A `lienthong up` that fails half-way leaves nothing `down` cannot find."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy import stack, state
from runtime.settings import Settings
from runtime.terminal import Console


def test_a_broker_started_before_postgresql_failed_is_recorded_for_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found after test runs: three embedded brokers outlived their stacks. `up` started the
    broker, PostgreSQL then failed, and stack.json, written only once both were up, never named
    the broker, so `down` could not stop it."""
    broker = {"kind": "tansu", "pid": 424242, "port": 9, "bootstrap": "127.0.0.1:9"}

    def start_broker(*_args: Any) -> dict[str, Any]:
        return broker

    def failing_postgres(_home: Path) -> dict[str, Any]:
        raise TimeoutError("PostgreSQL listens but takes no connection")

    monkeypatch.setattr(stack, "_ensure_broker", start_broker)
    monkeypatch.setattr(stack, "start_postgres", failing_postgres)
    with pytest.raises(TimeoutError):
        stack.ensure_infra(Settings(home=tmp_path), Console(quiet=True))
    recorded = state.StackState(tmp_path).stack()
    assert recorded["broker"] == broker
