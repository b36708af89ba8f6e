"""The task store's contract, written once and run against both adapters: the in-memory one the
unit tests use and PostgreSQL (real database). If the fake drifts from the real store, this fails."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.clock import VN_TZ
from runtime import db
from runtime.taskstore import MemoryTaskStore, PgTaskStore, Task, TaskStore
from tests.integration.conftest import Infra

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)


def task(dossier_id: str, *offsets_h: float) -> Task:
    kinds = ("started", "thu_ly", "completed")[-len(offsets_h) :]
    plan = tuple((kind, T0 + timedelta(hours=h)) for kind, h in zip(kinds, offsets_h, strict=True))
    return Task(
        event_id=str(uuid.uuid4()),
        dossier_id=dossier_id,
        message=b"{}",
        received_at=T0,
        deadline=T0 + timedelta(days=3),
        plan=plan,
    )


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest, infra: Infra) -> AsyncIterator[tuple[TaskStore, Any]]:
    if request.param == "memory":
        yield MemoryTaskStore(), None
        return
    name = f"it_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(infra.admin_url, name)
    url = infra.admin_url.rsplit("/", 1)[0] + f"/{name}"
    pool = await db.create_pool(url, max_size=2)
    try:
        await db.apply_schema(pool, "hotich")
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                yield PgTaskStore("hotich"), conn
        finally:
            await conn.close()
    finally:
        await pool.close()


async def test_a_task_added_twice_is_one_task_and_comes_due_at_its_next_milestone(
    store: tuple[TaskStore, Any],
) -> None:
    s, conn = store
    a = task("D-A", 1, 2, 3)
    await s.add(conn, [a])
    await s.add(conn, [a])  # the handoff delivered again
    assert not await s.any_due(conn, T0 + timedelta(minutes=59))
    assert await s.any_due(conn, T0 + timedelta(hours=1))
    due = await s.due(conn, T0 + timedelta(hours=10), 10)
    assert [t.dossier_id for t in due] == ["D-A"]
    assert due[0].plan == a.plan
    assert due[0].next_idx == 0


async def test_due_is_oldest_first_and_at_most_the_limit(store: tuple[TaskStore, Any]) -> None:
    s, conn = store
    await s.add(conn, [task("D-LATE", 5, 6), task("D-EARLY", 1, 2), task("D-MID", 3, 4)])
    assert [t.dossier_id for t in await s.due(conn, T0 + timedelta(hours=4), 10)] == ["D-EARLY", "D-MID"]
    assert [t.dossier_id for t in await s.due(conn, T0 + timedelta(hours=9), 2)] == ["D-EARLY", "D-MID"]


async def test_advance_moves_to_the_next_milestone_and_removes_finished_work(store: tuple[TaskStore, Any]) -> None:
    s, conn = store
    await s.add(conn, [task("D-A", 1, 2, 3), task("D-B", 1, 2)])
    a, b = await s.due(conn, T0 + timedelta(hours=1), 10)
    await s.advance(conn, moved=[(a.id, 2)], done=[b.id])
    assert not await s.any_due(conn, T0 + timedelta(hours=2, minutes=59))
    (moved,) = await s.due(conn, T0 + timedelta(hours=3), 10)
    assert (moved.dossier_id, moved.next_idx, moved.next_at) == ("D-A", 2, T0 + timedelta(hours=3))
    await s.drop(conn, moved.id)
    assert await s.due(conn, T0 + timedelta(days=9), 10) == []
