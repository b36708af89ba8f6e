"""The broker's side of the backlog (streams/backlog.py): the positions of the work topics of the
agencies whose handoffs the monitor holds, read with the admin API. Any consumer group that has
committed on an agency's work topic is that agency's reader (an integrator's system included: the
contract asks it to commit after processing); the monitor's own groups are not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog

from contracts import topics
from runtime.groups import BROKER_TIMEOUT_S, GroupReader
from streams.backlog import Position, Snapshot

log = structlog.get_logger()

SETTLE_S = 0.5
"""Real seconds between two looks at the held handoffs' partitions."""
WARN_EVERY_S = 30.0


class Positions:
    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        own = f"{prefix}.monitor"
        self.reader = GroupReader(
            bootstrap, "lienthong-monitor-positions", skip=lambda g: g == own or g.startswith(own + ".")
        )
        self.started = False
        self.warned = -WARN_EVERY_S

    async def snapshot(self, agencies: Iterable[str]) -> Snapshot | None:
        """The positions of these agencies' work topics; None when the broker did not answer."""
        taken = time.monotonic()  # before asking: every end read comes after it
        wanted = sorted(agencies)
        if not wanted:
            return Snapshot(taken, {}, {})
        try:
            async with asyncio.timeout(BROKER_TIMEOUT_S * 2):
                if not self.started:
                    await self.reader.start()
                    self.started = True
                groups = await self.reader.groups(taken)
                names = {a: topics.work(a, self.prefix) for a in wanted}
                positions: dict[str, dict[int, Position]] = {}
                for agency, topic in names.items():
                    readers = await self.reader.readers(topic, groups, leaders=True)
                    if readers is None:
                        continue
                    positions[agency] = {
                        p: Position(
                            end=readers.ends.get(p, 0),
                            committed=max((c[p] for c in readers.committed.values() if p in c), default=None),
                            leader=p not in readers.leaderless,
                            floor=1 if p in readers.primed else 0,
                        )
                        for p in readers.partitions
                    }
                return Snapshot(taken, names, positions)
        except Exception as exc:  # the broker away: no evidence this time, held stays held
            # Said once every WARN_EVERY_S: a reader that keeps failing holds every late handoff
            # unjudged, which an operator must be able to see.
            if taken - self.warned >= WARN_EVERY_S:
                self.warned = taken
                log.warning("work topic positions not read", error=f"{type(exc).__name__}: {exc}", agencies=wanted)
            return None

    async def stop(self) -> None:
        if self.started:
            await self.reader.stop()
