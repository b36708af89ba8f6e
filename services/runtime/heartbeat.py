"""Agency heartbeats on the dossier-events topic, so the monitor can tell a silent agency.

Heartbeats go straight to the broker, not through the outbox, and on schedule: each is handed
to the producer without waiting for the one before to be acknowledged, so while a cluster elects
new leaders (a node died) the beats queue in the producer with their own stamps and arrive
together, and the monitor hears no silence that was not there. A beat the broker never takes is
logged and dropped: it is worthless later.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import structlog

from contracts import topics
from contracts.clock import SimClock
from contracts.envelope import new_event
from services.runtime.kafka import AIOKafkaPublisher

log = structlog.get_logger()


async def beat(
    agency: str,
    publisher: AIOKafkaPublisher,
    clock: SimClock,
    prefix: str,
    interval_s: float,
    down: Callable[[], bool] = lambda: False,
) -> None:
    """Beat every `interval_s` real seconds, except while `down()` (an injected outage)."""
    seq = 0
    instance = f"{os.uname().nodename}:{os.getpid()}"
    while True:
        if down():
            await asyncio.sleep(min(interval_s, 0.1))
            continue
        event = new_event(
            "agency.heartbeat",
            agency,
            clock.now(),
            dossier_id=None,
            chain=None,
            payload={"seq": seq, "instance": instance},
        )
        try:
            delivery = await publisher.enqueue(topics.dossier_events(prefix), event.key, event.to_json())
            delivery.add_done_callback(_report)
            seq += 1
        except Exception as exc:  # the broker may be down; the monitor will notice the silence
            log.warning("heartbeat not sent", error=str(exc))
        await asyncio.sleep(interval_s)


def _report(delivery: asyncio.Future[Any]) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        log.warning("heartbeat not delivered", error=str(delivery.exception()))
