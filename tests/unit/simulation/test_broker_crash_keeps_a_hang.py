"""A broker crash freezes the services while the broker comes back, then resumes them
(simulation/faults/broker.py). A process another strike had hung was resumed with them: the short
chaos plan's 25-second hang of social insurance ended after a few seconds, when the broker's crash
fell inside it, and nobody was notified. The crash now leaves a stopped process as it is."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from simulation.faults.broker import stopped, to_ask, to_freeze


@pytest.fixture
def two_sleepers() -> Iterator[tuple[int, int]]:
    procs = [subprocess.Popen(["sleep", "60"]) for _ in range(2)]
    try:
        yield procs[0].pid, procs[1].pid
    finally:
        for p in procs:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
            p.wait()


def _until(check: bool, pid: int) -> None:
    ends = time.monotonic() + 5
    while stopped(pid) != check and time.monotonic() < ends:
        time.sleep(0.01)


def test_a_broker_crash_does_not_resume_a_process_another_strike_hung(two_sleepers: tuple[int, int]) -> None:
    hung, running = two_sleepers
    os.kill(hung, signal.SIGSTOP)
    _until(True, hung)
    assert stopped(hung)
    assert not stopped(running)
    assert to_freeze({"bhxh": hung, "cutru": running}) == {"cutru": running}
    os.kill(hung, signal.SIGCONT)
    _until(False, hung)
    assert to_freeze({"bhxh": hung, "cutru": running}) == {"bhxh": hung, "cutru": running}


def test_a_process_that_is_gone_is_not_stopped() -> None:
    assert not stopped(2**22 + 12345)  # above pid_max's default: no such process


def test_an_agency_down_when_the_broker_crashed_is_still_asked_to_publish_again() -> None:
    # Regression: a fresh-clone CI run (5 December 2026) missed two late death registrations, and
    # a hand run lost 46 events of residence: the faults run killed residence a second before the
    # broker's crash, and only the agencies running at the crash were asked to publish again what
    # the broker lost. The monitor never read residence's failed calls to the population database.
    supervised = ["portal", "motcua", "hotich", "cutru", "bhxh", "btxh", "lltp", "dancu", "monitor", "monitor-2"]
    assert to_ask(supervised) == ["bhxh", "btxh", "cutru", "dancu", "hotich", "lltp", "motcua", "portal"]
    assert to_ask(["hotich", "hotich-2", "monitor"]) == ["hotich"]
