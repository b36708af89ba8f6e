"""Regression: a healthcheck that ran out of its time just as it ended ended the whole compose
check with an empty reason ("bring the file up: NO"): killing it raised ProcessLookupError. A
timed-out healthcheck is a failed attempt, as Compose counts one, and the next may pass."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

from deploy import compose_check
from deploy import compose_images as images
from deploy.compose_plan import Container
from runtime.terminal import Console


def test_a_healthcheck_that_times_out_as_it_ends_is_one_failed_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "healthy"
    container = Container(
        service="hotich",
        replica=1,
        image="lienthong:local",
        ours=True,
        command=("python", "-c", "pass"),
        env={},
        local_env={},
        ports={},
        root=tmp_path / "root",
        volumes={},
        healthcheck=("CMD-SHELL", f"test -f {flag}"),
        depends_on={},
        health_budget_s=30.0,
        health_timeout_s=5.0,
    )
    server = subprocess.Popen(["sleep", "60"])
    real_wait_for = asyncio.wait_for
    calls = 0

    async def wait_for(awaitable: Awaitable[Any], timeout: float | None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first attempt ends, and its time runs out at that very moment
            await awaitable
            flag.write_text("up")
            raise TimeoutError
        return await real_wait_for(awaitable, timeout)

    monkeypatch.setattr(compose_check.asyncio, "wait_for", wait_for)
    check = compose_check.Check(compose_check.COMPOSE, tmp_path / "work", Console(quiet=True))
    try:
        asyncio.run(check._until_healthy(images.Started(container, server, tmp_path / "hotich.log")))
    finally:
        server.kill()
        server.wait()
    assert calls == 2
