"""A benchmark stops the stack it ran, whether it finishes or fails."""

from __future__ import annotations

from typing import Any

import pytest

from deploy import stack
from runtime.settings import Settings
from runtime.terminal import Console
from simulation.bench import runner


@pytest.mark.parametrize("fails", [False, True])
def test_the_bench_stops_the_stack_it_ran(monkeypatch: pytest.MonkeyPatch, fails: bool) -> None:
    """Found after `bench --broker both`: its Kafka stack (three JVMs and every service) kept
    running, and weighed on the figures measured after it."""
    stopped: list[Settings] = []

    def measured(*_args: Any) -> dict[str, Any]:
        if fails:
            raise RuntimeError("a part failed")
        return {"bench_s": 1.0}

    monkeypatch.setattr(runner, "_stacked", measured)
    monkeypatch.setattr(stack, "down", lambda settings, _console: stopped.append(settings))
    settings = Settings()
    if fails:
        with pytest.raises(RuntimeError, match="a part failed"):
            runner.run(settings, Console(quiet=True), ["chains"], 10, 10)
    else:
        assert runner.run(settings, Console(quiet=True), ["chains"], 10, 10) == {"bench_s": 1.0}
    assert stopped == [settings]
