"""Agency heartbeats on the dossier-events topic, so the monitor can tell a silent agency.

Heartbeats go straight to the broker, not through the outbox, and on schedule: each beat is
stamped when it is due and handed to the producer in a task of its own, so the schedule never
waits on the broker. While a cluster elects new leaders (a node died), the producer's batch for
the heartbeat partition can be full of the outbox's events and `send` then waits for it to
drain; a loop that awaited it would stamp its next beat seconds late, and the monitor would hear
a silence the agency never had. The beats queue instead, each with its own stamp, and arrive
together. A beat the broker never takes is logged and dropped: it is worthless later.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from contracts import topics
from contracts.clock import SimClock
from contracts.envelope import new_event
from contracts.event_types import AGENCY_HEARTBEAT

log = structlog.get_logger()

MAX_PENDING = 120
"""Beats waiting on the broker at most; past it a beat is dropped (a broker away that long is
an outage the monitor should see)."""
POLL_S = 0.02
"""Real seconds between two looks at the clock when beats follow sim time too: at 20× the
yardstick speed a look lags a beat by a fortieth of the beat interval at most."""


@dataclass(frozen=True)
class Timer:
    """The loop's real time: how it waits and what it reads (a test gives its own, so no test
    waits on the machine)."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic


REAL = Timer()


class Enqueuer(Protocol):
    async def enqueue(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[Any]: ...


async def beat(  # noqa: PLR0913 (what a beat needs; the optional parts keyword-only)
    agency: str,
    publisher: Enqueuer,
    clock: SimClock,
    prefix: str,
    interval_s: float,
    *,
    closed_since: Callable[[], datetime | None] = lambda: None,
    every: timedelta | None = None,
    timer: Timer = REAL,
) -> None:
    """Beat every `interval_s` real seconds, and also whenever the clock has passed `every` of sim
    time since the last beat (a governed clock runs idle stretches far past its ceiling: spaced in
    real time alone, beats would then be hours of sim time apart), except during an injected outage (`closed_since()`
    gives when it began). The agency was alive until the outage began, so its last beat is stamped
    then: the silence the monitor measures is the outage itself, not the outage plus however much
    of a beat interval (11 sim hours at 40,000×) had passed when it began, which decided by the
    machine's timing whether a day-long outage crossed the silence limit."""
    seq = 0
    instance = f"{os.uname().nodename}:{os.getpid()}"
    pending: set[asyncio.Task[None]] = set()
    last: datetime | None = None
    last_real = -math.inf
    try:
        while True:
            opens = closed_since()
            if opens is not None:
                if last is not None and last < opens:
                    _beat(publisher, agency, opens, prefix, seq, instance, pending)
                    seq += 1
                # The first beat after the outage says when it was sent: none is owed for it.
                last = None
                await timer.sleep(min(interval_s, 0.1))
                continue
            now = clock.now()
            for at in _due(clock, now, last, every, last is None or timer.monotonic() - last_real >= interval_s):
                if len(pending) >= MAX_PENDING:
                    log.warning("heartbeat dropped: the broker has not taken the earlier ones", waiting=len(pending))
                    last, last_real = now, timer.monotonic()
                    break
                last, last_real = at, timer.monotonic()
                _beat(publisher, agency, at, prefix, seq, instance, pending)
                seq += 1
            await timer.sleep(min(interval_s, POLL_S) if every is not None else interval_s)
    finally:
        for task in pending:
            task.cancel()


def _due(
    clock: SimClock, now: datetime, last: datetime | None, every: timedelta | None, real_due: bool
) -> list[datetime]:
    """The stamps of the beats due at `now`. A beat due by sim time is stamped when it fell due,
    within the stamping bound, like every event (`SimClock.stamp`): a loop held up by a batch of
    work for a fifth of a real second is, at 16 times the speed of a month, 13 sim hours late, and
    stamped on reading the monitor heard a silence longer than its limit from an agency that was
    working all along. Beyond the bound the beats say when they were sent: an agency frozen longer
    than that is silent, and the monitor must hear it."""
    if every is None or last is None or now - last < every:
        return [now] if real_due else []
    out: list[datetime] = []
    at = last
    while now - at >= every:
        at = clock.stamp(at + every, now)
        out.append(at)
    return out


def _beat(
    publisher: Enqueuer,
    agency: str,
    at: datetime,
    prefix: str,
    seq: int,
    instance: str,
    pending: set[asyncio.Task[None]],
) -> None:
    event = new_event(
        AGENCY_HEARTBEAT, agency, at, dossier_id=None, chain=None, payload={"seq": seq, "instance": instance}
    )
    task = asyncio.create_task(_send(publisher, topics.dossier_events(prefix), event.key, event.to_json()))
    pending.add(task)
    task.add_done_callback(pending.discard)


async def _send(publisher: Enqueuer, topic: str, key: bytes | None, value: bytes) -> None:
    try:
        delivery = await publisher.enqueue(topic, key, value)
        # Shielded: a beat cancelled at shutdown must not cancel the producer's own future.
        await asyncio.shield(delivery)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the broker may be down; the monitor will notice the silence
        log.warning("heartbeat not delivered", error=str(exc))
