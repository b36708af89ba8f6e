"""PostgreSQL counts as started only once it takes connections, not when its port opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from deploy import embedded


class StartingUp:
    """asyncpg.connect as a server answers while it starts: refused twice, then accepted."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls = 0

    async def __call__(self, url: str, timeout: float) -> Any:
        self.calls += 1
        if self.calls <= self.refusals:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return self

    async def close(self) -> None:
        return None


def test_a_server_still_starting_up_is_waited_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Found by a `lienthong up` on a busy machine: the port was open, `CREATE DATABASE` was
    refused with "the database system is starting up", and the stack never came up."""
    fake = StartingUp(refusals=2)
    monkeypatch.setattr(asyncpg, "connect", fake)
    embedded._await_accepting("postgresql://postgres@127.0.0.1:1/postgres", 5, tmp_path / "postgres.log")
    assert fake.calls == 3


def test_a_server_that_never_takes_connections_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(asyncpg, "connect", StartingUp(refusals=10**9))
    with pytest.raises(TimeoutError, match=r"takes no connection after 0 s; see .*postgres\.log"):
        embedded._await_accepting("postgresql://postgres@127.0.0.1:1/postgres", 0.3, tmp_path / "postgres.log")
