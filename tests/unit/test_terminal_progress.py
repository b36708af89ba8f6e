"""Progress of a long command: counts and an ETA where the total is known, as a bar on a
terminal and as a line now and then in a log; nothing when quiet."""

from __future__ import annotations

import io

import pytest

from runtime import terminal
from runtime.terminal import Console, eta


def test_a_log_gets_the_counts_and_an_eta_from_the_rate_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([100.0, 110.0])
    monkeypatch.setattr(terminal.time, "monotonic", lambda: next(ticks))
    out = io.StringIO()
    console = Console(out)
    console.count("2024-01-09 │ birth 10/60", 0, 100)  # the first count: a line, no rate yet
    console.count("2024-01-10 │ birth 30/60", 50, 100)  # 50 in 10 s: 50 left, 10 s
    lines = out.getvalue().splitlines()
    assert lines == ["2024-01-09 │ birth 10/60 · 0/100", "2024-01-10 │ birth 30/60 · 50/100 · ETA 10 s"]


def test_the_eta_reads_in_minutes_and_is_silent_without_a_rate_or_when_done() -> None:
    assert eta((0.0, 0), 60.0, 30, 330) == " · ETA 10 min 0 s"
    assert eta((0.0, 0), 0.0, 0, 10) == ""
    assert eta((0.0, 0), 5.0, 10, 10) == ""


def test_a_quiet_console_prints_nothing() -> None:
    out = io.StringIO()
    console = Console(out, quiet=True)
    console.count("x", 1, 2)
    console.step("y")
    console.done()
    assert out.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_the_counts_and_steps_above_it() -> None:
    out = Terminal()
    console = Console(out)
    console.count("2024-01-09 │ birth 10/60", 10, 100)
    console.count("2024-01-10 │ birth 30/60", 50, 100)
    console.step("a kill -9 of cutru")
    console.done()
    shown = out.getvalue()
    assert "50/100" in shown
    assert "• a kill -9 of cutru" in shown
