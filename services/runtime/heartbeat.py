"""Agency heartbeats on the dossier-events topic, so the monitor can tell a silent agency.

Heartbeats go straight to the broker, not through the outbox: a heartbeat that cannot be
delivered now is worthless later.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

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
            await publisher.publish(topics.dossier_events(prefix), event.key, event.to_json())
            seq += 1
        except Exception as exc:  # the broker may be down; the monitor will notice the silence
            log.warning("heartbeat not sent", error=str(exc))
        await asyncio.sleep(interval_s)
