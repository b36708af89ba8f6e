"""Regression: a broker crash whose replay raised (a NameError in the harness) left the run's
ground truth without the crash, and `lienthong run` still exited 0 with the fault missing from its
summary. A process fault that fails now fails the run."""

from __future__ import annotations

import asyncio

from simulation.bootstrap import exit_code
from simulation.run import failure


async def _raises() -> None:
    raise NameError("name 'resumed' is not defined")


async def _waits() -> None:
    await asyncio.sleep(3600)


def test_a_process_fault_that_raised_fails_the_run() -> None:
    async def go() -> list[str]:
        task = asyncio.create_task(_raises())
        await asyncio.sleep(0)
        return failure(task)

    errors = asyncio.run(go())
    assert errors == ["NameError: name 'resumed' is not defined"]
    assert exit_code({"fault_errors": errors, "in_progress": 0}, allow_unfinished=True) == 1


def test_faults_still_waiting_or_cancelled_at_the_end_are_not_failures() -> None:
    async def go() -> tuple[list[str], list[str]]:
        task = asyncio.create_task(_waits())
        await asyncio.sleep(0)
        running = failure(task)
        task.cancel()
        await asyncio.sleep(0)
        return running, failure(task)

    assert asyncio.run(go()) == ([], [])


def test_unfinished_dossiers_fail_the_run_unless_allowed() -> None:
    assert exit_code({"fault_errors": [], "in_progress": 3}, allow_unfinished=False) == 1
    assert exit_code({"fault_errors": [], "in_progress": 3}, allow_unfinished=True) == 0
    assert exit_code({"fault_errors": [], "in_progress": 0}, allow_unfinished=False) == 0
