"""An agency asked to stop stops within its grace, part by part (runtime/service.py `stopped`): a
part that does not end when cancelled is named in the log with where it stood, and a database
pool still waiting for a connection is terminated, instead of holding the process for ever."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from runtime import service


class Pool:
    def __init__(self) -> None:
        self.terminated = False

    async def close(self) -> None:
        await asyncio.Event().wait()  # a connection that never comes back

    def terminate(self) -> None:
        self.terminated = True


class Log:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})


class Publisher:
    async def stop(self) -> None:
        return None


async def test_a_part_that_ignores_its_cancellation_and_a_stuck_pool_do_not_hold_the_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = Log()
    monkeypatch.setattr(service, "log", log)
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    async def obedient() -> None:
        await asyncio.sleep(60)

    parts = [asyncio.create_task(stubborn(), name="stubborn"), asyncio.create_task(obedient(), name="obedient")]
    pool = Pool()
    await asyncio.sleep(0)  # both parts are running
    started = time.monotonic()
    await service.stopped(parts, None, Publisher(), pool, grace_s=0.2)  # type: ignore[arg-type]
    took = time.monotonic() - started
    release.set()
    await asyncio.wait(parts, timeout=1)
    late = [e for e in log.lines if e["event"] == "a task did not stop when cancelled"]
    assert [e["task"] for e in late] == ["stubborn"]
    assert "test_agency_stops.py" in late[0]["at"]
    assert pool.terminated
    assert parts[1].cancelled()
    assert took < 5, took  # bounded by the grace (0.2 s per part), not by the stuck parts
