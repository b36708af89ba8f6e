"""Heartbeats keep their schedule whatever the broker does."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from contracts.clock import VN_TZ, SimClock
from runtime.heartbeat import Timer, beat


class StuckBroker:
    """The first send waits for a batch that never drains (a partition electing a new leader
    while the outbox filled the batch); the later ones are taken at once."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.first_blocked = asyncio.Event()
        self.released = asyncio.Event()

    async def enqueue(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[Any]:
        self.sent.append(json.loads(value))
        if len(self.sent) == 1:
            self.first_blocked.set()
            await self.released.wait()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_a_send_stuck_behind_a_full_batch_does_not_silence_the_heartbeats() -> None:
    """Found by the node-kill test on Kafka: while one send waited on the broker, the beat loop
    waited with it and stamped its next beat 5.6 s late, which the monitor rightly called
    silence. The beats due meanwhile must still be stamped and handed over on time."""

    async def scenario() -> list[dict[str, Any]]:
        broker = StuckBroker()
        clock = SimClock(epoch=datetime(2024, 3, 4, 8, tzinfo=VN_TZ), anchor=0.0, speed=1.0)
        task = asyncio.create_task(beat("motcua", broker, clock, "t", 0.01))
        await asyncio.wait_for(broker.first_blocked.wait(), 5)
        for _ in range(500):
            if len(broker.sent) >= 5:
                break
            await asyncio.sleep(0.01)
        still_blocked = not broker.released.is_set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert still_blocked
        return broker.sent

    sent = asyncio.run(scenario())
    assert len(sent) >= 5, "the beats stopped while the first send waited on the broker"
    assert [e["payload"]["seq"] for e in sent] == list(range(len(sent)))
    stamps = [datetime.fromisoformat(e["occurred_at"]) for e in sent]
    assert stamps == sorted(stamps)
    assert stamps[-1] > stamps[0]
    assert all(b - a < timedelta(seconds=1) for a, b in pairwise(stamps))


class Broker:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.first = asyncio.Event()

    async def enqueue(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[Any]:
        self.sent.append(json.loads(value))
        self.first.set()
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeTime:
    """Real time that passes only when the beat loop waits: the test reads the loop's every step
    at the moment it takes it, however busy the machine is."""

    def __init__(self, start: float) -> None:
        self.t = start
        self.moved = asyncio.Event()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.moved.set()
        await asyncio.sleep(0)  # the test runs between two steps of the loop

    async def until(self, t: float) -> None:
        while self.t < t:
            self.moved.clear()
            await self.moved.wait()

    @property
    def timer(self) -> Timer:
        return Timer(sleep=self.sleep, monotonic=self.now)


def test_an_agency_beats_last_when_its_outage_begins_not_a_beat_interval_before() -> None:
    """Regression: at 40,000× a beat interval is 11 sim hours, and the last beat before a day-long
    outage fell anywhere in the interval before it; the silence then crossed the 3-beat limit in
    one run and not in the next. The last beat is stamped when the outage began, none during it."""
    fake = FakeTime(1000.0)
    clock = SimClock(epoch=datetime(2024, 1, 9, 8, tzinfo=VN_TZ), anchor=1000.0, speed=3600.0, real_time=fake.now)
    state: dict[str, datetime | None] = {"closed_since": None}

    async def scenario() -> tuple[list[dict[str, Any]], datetime]:
        broker = Broker()
        task = asyncio.create_task(
            beat("portal", broker, clock, "t", 0.2, closed_since=lambda: state["closed_since"], timer=fake.timer)
        )
        await asyncio.wait_for(broker.first.wait(), 5)
        await fake.until(1000.3)  # the loop has slept one interval and more: a beat is due
        opens = clock.now()  # the outage begins between two beats
        state["closed_since"] = opens
        await fake.until(fake.t + 0.6)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return broker.sent, opens

    sent, opens = asyncio.run(scenario())
    stamps = [datetime.fromisoformat(e["occurred_at"]) for e in sent]
    assert stamps[0] < opens
    assert stamps[-1] == opens
    assert sum(1 for s in stamps if s >= opens) == 1  # silent for the rest of the outage
    assert [e["payload"]["seq"] for e in sent] == list(range(len(sent)))


def test_a_clock_far_past_its_speed_gets_a_beat_each_beat_interval_of_sim_time() -> None:
    """A governed run passes idle stretches at many times its speed; beats spaced in real time
    alone would be hours of sim time apart there, and the monitor would hear silences."""
    from contracts.clock import Segment
    from runtime.heartbeat import POLL_S

    fake = FakeTime(1000.0)
    epoch = datetime(2024, 3, 6, 22, tzinfo=VN_TZ)
    segments = [Segment(1000.0, epoch, 40.0)]  # forty times the clock's own speed
    clock = SimClock(epoch=epoch, anchor=1000.0, speed=1.0, segments=lambda: segments, real_time=fake.now)

    async def scenario() -> list[dict[str, Any]]:
        broker = Broker()
        task = asyncio.create_task(beat("bhxh", broker, clock, "t", 10.0, every=timedelta(seconds=2), timer=fake.timer))
        await fake.until(1000.6)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return broker.sent

    stamps = [datetime.fromisoformat(e["occurred_at"]) for e in asyncio.run(scenario())]
    gaps = [(b - a).total_seconds() for a, b in pairwise(stamps)]
    assert len(stamps) >= 6, "one beat in ten real seconds: the sim-time beats did not come"
    # One interval of sim time, plus at most a look at the clock.
    assert all(2.0 <= g <= 2.0 + 40.0 * POLL_S for g in gaps), gaps


def test_a_beat_late_behind_a_busy_loop_is_stamped_when_it_fell_due() -> None:
    """Regression: at 16 times the speed of a month, a loop held up for a fifth of a real second
    by a batch of work stamped its next beat 13 sim hours after the last one, past the monitor's
    silence limit, for an agency that was working all along (false silences in the short chaos
    plan). The beats owed meanwhile are stamped when they fell due, within the stamping bound."""
    from runtime.heartbeat import _due

    epoch = datetime(2024, 1, 8, 8, tzinfo=VN_TZ)
    clock = SimClock(epoch=epoch, anchor=0.0, speed=15_000.0, max_lag_s=5.0)
    every = timedelta(seconds=15_000)
    last = epoch
    now = last + timedelta(hours=13)
    stamps = _due(clock, now, last, every, real_due=False)
    gaps = [b - a for a, b in pairwise([last, *stamps])]
    assert stamps
    assert all(g == every for g in gaps), gaps
    assert now - stamps[-1] < every


def test_an_agency_frozen_past_the_stamping_bound_is_not_covered_by_beats_it_never_sent() -> None:
    """The beats owed are stamped no earlier than the stamping bound allows: an agency frozen for
    longer is silent for all but the bound, and the monitor hears it."""
    from runtime.heartbeat import _due

    epoch = datetime(2024, 1, 8, 8, tzinfo=VN_TZ)
    clock = SimClock(epoch=epoch, anchor=0.0, speed=1.0, max_lag_s=5.0)
    last = epoch
    now = last + timedelta(minutes=5)
    stamps = _due(clock, now, last, timedelta(seconds=1), real_due=False)
    assert stamps[0] == now - timedelta(seconds=5)
    assert stamps[-1] == now
    assert len(stamps) == 6


def test_the_first_beat_after_an_outage_is_stamped_when_it_was_sent() -> None:
    """No beat is owed for an outage: the first one after it is stamped on reading the clock, so
    the monitor measures the whole outage as silence."""
    fake = FakeTime(1000.0)
    clock = SimClock(epoch=datetime(2024, 1, 9, 8, tzinfo=VN_TZ), anchor=1000.0, speed=3600.0, real_time=fake.now)
    state: dict[str, datetime | None] = {"closed_since": None}

    async def scenario() -> tuple[list[dict[str, Any]], datetime, datetime]:
        broker = Broker()
        task = asyncio.create_task(
            beat(
                "hotich",
                broker,
                clock,
                "t",
                0.05,
                closed_since=lambda: state["closed_since"],
                every=timedelta(seconds=60),
                timer=fake.timer,
            )
        )
        await asyncio.wait_for(broker.first.wait(), 5)
        opens = clock.now()
        state["closed_since"] = opens
        await fake.until(fake.t + 0.5)  # half a real second: 30 sim minutes, 30 beats' worth
        state["closed_since"] = None
        ends = clock.now()
        await fake.until(fake.t + 0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return broker.sent, opens, ends

    sent, opens, ends = asyncio.run(scenario())
    stamps = [datetime.fromisoformat(e["occurred_at"]) for e in sent]
    after = [s for s in stamps if s > opens]
    assert after, "no beat after the outage"
    assert after[0] >= ends, f"a beat stamped {after[0]} inside the outage {opens}..{ends}"
