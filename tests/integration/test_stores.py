"""The platform's ports (runtime/inbox.py, runtime/outbox.py, runtime/taskstore.py,
runtime/officers.py): each contract
written once and run against both adapters, the in-memory one the unit tests use and PostgreSQL
(a real database, each test in a transaction of its own). If a fake drifts from the real store,
this fails."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.clock import VN_TZ
from runtime import db
from runtime.deadletters import DeadLetterStore, Kept, MemoryDeadLetters, PgDeadLetters
from runtime.inbox import Entry, Inbox, MemoryInbox, PgInbox
from runtime.officers import Entry as Line
from runtime.officers import MemoryOfficerStore, OfficerStore, PgOfficerStore
from runtime.outbox import MemoryOutbox, OutboxStore, PgOutbox, Record
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


Stores = tuple[TaskStore, Inbox, OutboxStore, DeadLetterStore, Any, OfficerStore]


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest, infra: Infra) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield (
            MemoryTaskStore(),
            MemoryInbox(),
            MemoryOutbox(owner="hotich"),
            MemoryDeadLetters(),
            None,
            MemoryOfficerStore(),
        )
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
                yield (
                    PgTaskStore("hotich"),
                    PgInbox("hotich"),
                    PgOutbox("hotich"),
                    PgDeadLetters("hotich"),
                    conn,
                    PgOfficerStore("hotich"),
                )
        finally:
            await conn.close()
    finally:
        await pool.close()


@pytest.fixture
def store(stores: Stores) -> tuple[TaskStore, Any]:
    return stores[0], stores[4]


@pytest.fixture
def inbox(stores: Stores) -> tuple[Inbox, Any]:
    return stores[1], stores[4]


@pytest.fixture
def outbox(stores: Stores) -> tuple[OutboxStore, Any]:
    return stores[2], stores[4]


@pytest.fixture
def kept(stores: Stores) -> tuple[DeadLetterStore, Any]:
    return stores[3], stores[4]


@pytest.fixture
def officers(stores: Stores) -> tuple[OfficerStore, Any]:
    return stores[5], stores[4]


def line(dossier_id: str, officer: int, taken_h: float, released_h: float, unit: str = "tỉnh") -> Line:
    return Line(
        str(uuid.uuid4()),
        dossier_id,
        "lltp/intake",
        unit,
        officer,
        T0,
        T0 + timedelta(hours=taken_h),
        T0 + timedelta(hours=released_h),
    )


async def test_an_officers_promised_work_is_what_the_register_holds_once_and_ends_after_a_moment(
    officers: tuple[OfficerStore, Any],
) -> None:
    s, conn = officers
    desk = {("lltp/intake", "tỉnh")}
    assert await s.busy(conn, desk, T0) == {}
    first, second = line("D-1", 0, 0, 1), line("D-2", 0, 1, 2)
    await s.take(conn, [first, second, line("D-3", 1, 0.25, 0.5), line("D-4", 0, 0.75, 3, unit="001")])
    await s.take(conn, [first])  # the same handoff planned again: nothing changes
    hour = timedelta(hours=1)
    assert await s.busy(conn, desk, T0) == {
        ("lltp/intake", "tỉnh", 0): [(T0, T0 + hour), (T0 + hour, T0 + 2 * hour)],
        ("lltp/intake", "tỉnh", 1): [(T0 + hour / 4, T0 + hour / 2)],
    }
    # Only what ends after the moment asked: the first hour's work is done by then.
    assert await s.busy(conn, desk, T0 + hour) == {("lltp/intake", "tỉnh", 0): [(T0 + hour, T0 + 2 * hour)]}
    register = await s.register(conn)
    assert [e.dossier_id for e in register] == ["D-1", "D-3", "D-4", "D-2"]
    assert register[0] == first


async def test_the_lines_waiting_for_an_officer_are_those_received_after_and_not_taken_up_yet_and_move(
    officers: tuple[OfficerStore, Any],
) -> None:
    s, conn = officers
    desk = {("lltp/intake", "tỉnh")}
    early = replace(line("D-1", 0, 2, 3), received_at=T0)
    late = replace(line("D-2", 0, 3, 4), received_at=T0 + timedelta(hours=1))
    started = replace(line("D-3", 1, 0.5, 4), received_at=T0 + timedelta(hours=0.5))
    await s.take(conn, [early, late, started])
    # Received after 00:15 and not taken up by 01:00: D-2 and D-1 are not (D-1 came first).
    waiting = await s.waiting(conn, desk, T0 + timedelta(minutes=15), T0 + timedelta(hours=1))
    assert [e.dossier_id for e in waiting] == ["D-2"]
    moved = replace(late, officer=1, taken_at=T0 + timedelta(hours=4), released_at=T0 + timedelta(hours=5))
    await s.move(conn, [moved])
    assert [e for e in await s.register(conn) if e.dossier_id == "D-2"] == [moved]


async def test_a_task_not_started_is_handed_over_and_planned_again_a_started_one_is_not(
    store: tuple[TaskStore, Any],
) -> None:
    s, conn = store
    await s.add(conn, [task("D-A", 1, 2, 3), task("D-B", 1, 2)])
    a, b = await s.due(conn, T0 + timedelta(hours=1), 10)
    await s.advance(conn, moved=[(b.id, 1)], done=[])
    (waiting,) = await s.unstarted(conn, [a.event_id, b.event_id, str(uuid.uuid4())])
    assert waiting.dossier_id == "D-A"
    plan = tuple((kind, at + timedelta(hours=5)) for kind, at in waiting.plan)
    await s.reschedule(conn, [(waiting.id, plan)])
    assert [t.dossier_id for t in await s.due(conn, T0 + timedelta(hours=5), 10)] == ["D-B"]
    again = next(t for t in await s.due(conn, T0 + timedelta(hours=6), 10) if t.dossier_id == "D-A")
    assert (again.plan, again.next_idx, again.next_at) == (plan, 0, T0 + timedelta(hours=6))


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


async def test_a_replanned_task_comes_due_at_its_new_last_milestone_with_the_ones_before_kept(
    store: tuple[TaskStore, Any],
) -> None:
    s, conn = store
    await s.add(conn, [task("D-W", 1, 2, 3)])
    (t,) = await s.due(conn, T0 + timedelta(hours=3), 10)
    later = T0 + timedelta(hours=7)
    await s.replan(conn, [(t.id, (*t.plan[:-1], (t.plan[-1][0], later)))])
    assert not await s.any_due(conn, later - timedelta(minutes=1))
    (again,) = await s.due(conn, later, 10)
    assert (again.next_idx, again.next_at, again.plan[:-1]) == (2, later, t.plan[:-1])


# -- the inbox ------------------------------------------------------------------------------


async def test_an_id_admitted_once_is_never_fresh_again_and_twice_in_one_batch_is_fresh_once(
    inbox: tuple[Inbox, Any],
) -> None:
    box, conn = inbox
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert await box.admit(conn, [Entry(a, "D-A", "handoff.sent"), Entry(a, "D-A", "handoff.sent")]) == {a}
    assert await box.admit(conn, [Entry(a, "D-A", "handoff.sent"), Entry(b, "D-B", "handoff.sent")]) == {b}
    assert await box.admit(conn, []) == set()
    assert await box.holds(conn, [a, b, str(uuid.uuid4())]) == {a, b}


# -- the outbox -----------------------------------------------------------------------------


def record(dossier_id: str, topic: str = "lt.work.cutru", event_id: uuid.UUID | None = None) -> Record:
    return (event_id or uuid.uuid4(), dossier_id, topic, dossier_id.encode(), f"{dossier_id}@{topic}".encode())


async def test_a_message_is_kept_once_and_claimed_in_queue_order_until_marked_sent(
    outbox: tuple[OutboxStore, Any],
) -> None:
    box, conn = outbox
    a, b, c = record("D-A"), record("D-B"), record("D-C")
    await box.queue(conn, [a, b])
    await box.queue(conn, [a, c])  # a queued again: kept once, pending once
    assert await box.backlog(conn) == 3
    first = await box.claim(conn, T0, 2)
    assert [p.value for p in first] == [a[4], b[4]]
    assert (first[0].topic, first[0].key) == ("lt.work.cutru", b"D-A")
    await box.mark_sent(conn, [p.seq for p in first])
    assert [p.value for p in await box.claim(conn, T0, 10)] == [c[4]]
    assert await box.backlog(conn) == 1
    assert await box.holds(conn, [a[0], c[0], uuid.uuid4()]) == {a[0], c[0]}


async def test_a_released_message_is_pending_once_per_release_time_and_a_dropped_one_never(
    outbox: tuple[OutboxStore, Any],
) -> None:
    box, conn = outbox
    twice, dropped = record("D-TWICE"), record("D-DROPPED")
    await box.queue_released(conn, [(twice, (T0 + timedelta(hours=1), T0 + timedelta(hours=3))), (dropped, ())])
    assert await box.claim(conn, T0, 10) == []
    assert [p.value for p in await box.claim(conn, T0 + timedelta(hours=2), 10)] == [twice[4]]
    assert len(await box.claim(conn, T0 + timedelta(hours=3), 10)) == 2
    assert await box.holds(conn, [dropped[0]]) == {dropped[0]}  # kept for redrive


async def test_requeue_selects_by_message_by_dossier_and_by_publication_time_and_skips_what_waits(
    outbox: tuple[OutboxStore, Any],
) -> None:
    box, conn = outbox
    event = uuid.uuid4()
    work = record("D-A", "lt.work.cutru", event)
    lifecycle = record("D-A", "lt.dossier-events", event)
    other = record("D-B", "lt.work.bhxh")
    await box.queue(conn, [work, lifecycle, other])
    await box.mark_sent(conn, [p.seq for p in await box.claim(conn, T0, 10)])

    assert await box.requeue_messages(conn, [(event, "lt.work.cutru")]) == 1
    assert await box.requeue_messages(conn, [(event, None)]) == 1  # the work copy already waits
    assert await box.requeue_dossier(conn, "D-A", ["lt.work.cutru"]) == 0
    assert await box.requeue_dossier(conn, "D-B", ["lt.work.cutru", "lt.work.bhxh"]) == 1
    assert sorted(p.value for p in await box.claim(conn, T0, 10)) == sorted([work[4], lifecycle[4], other[4]])

    await box.mark_sent(conn, [p.seq for p in await box.claim(conn, T0, 10)])
    assert await box.requeue_sent_since(conn, ["lt.work.cutru", "lt.work.bhxh"], time.time() + 3600) == 0
    assert await box.requeue_sent_since(conn, ["lt.work.cutru", "lt.work.bhxh"], time.time() - 3600) == 2
    assert await box.requeue_messages(conn, [(uuid.uuid4(), None)]) == 0


# -- the dead letters -----------------------------------------------------------------------


async def test_a_kept_letter_is_taken_once_with_its_original_and_its_task(kept: tuple[DeadLetterStore, Any]) -> None:
    box, conn = kept
    refused = Kept("lt.work.hotich", 3, 41, b"D-A", b"{not json", "$: not valid JSON", letter_id=str(uuid.uuid4()))
    step = task("D-B", 1, 2, 3)
    failed = Kept("lt.work.hotich", None, None, b"D-B", step.message, "step failed", step, str(uuid.uuid4()))
    await box.keep(conn, [refused, failed])
    await box.keep(conn, [refused])  # kept twice: one letter
    unknown = str(uuid.uuid4())
    taken = await box.take(conn, [refused.letter_id, failed.letter_id, unknown, "not-a-uuid"])
    assert sorted(k.letter_id for k in taken.fresh) == sorted([refused.letter_id, failed.letter_id])
    first = next(k for k in taken.fresh if k.letter_id == refused.letter_id)
    assert (first.topic, first.partition, first.offset, first.key, first.value) == (
        "lt.work.hotich",
        3,
        41,
        b"D-A",
        b"{not json",
    )
    back = next(k for k in taken.fresh if k.letter_id == failed.letter_id)
    assert back.task is not None
    assert (back.task.event_id, back.task.plan, back.task.next_idx) == (step.event_id, step.plan, step.next_idx)
    assert sorted(taken.missing) == sorted([unknown, "not-a-uuid"])
    again = await box.take(conn, [refused.letter_id])
    assert (again.fresh, again.skipped) == ([], [refused.letter_id])
