"""The broker's side of the backlog (streams/backlog.py): the positions of the work topics of the
agencies whose handoffs the monitor holds, read with the admin API. Any consumer group that has
committed on an agency's work topic is that agency's reader (an integrator's system included: the
contract asks it to commit after processing); the monitor's own groups are not."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from runtime import kafkaaccess
from runtime.groups import BROKER_TIMEOUT_S, GroupReader
from streams.backlog import Position, Snapshot
from streams.positions import digest

log = structlog.get_logger()

SETTLE_S = 0.5
"""Real seconds between two looks at the held handoffs' partitions."""
WARN_EVERY_S = 30.0


class Unknown(enum.Enum):
    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN
"""The broker did not say (it is away): no evidence either way."""


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
                # Asked after the receivers' commits: a receipt written before a commit seen
                # here lies below these ends (the monitor must read that far first).
                events = await self.reader.ends(topics.dossier_events(self.prefix))
                return Snapshot(taken, names, positions, events)
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


class RecordPeek:
    """One message of the event topic read back by offset, on a consumer of its own (no group):
    the evidence `Continuity` (streams/positions.py) asks for before a batch after a pause."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._consumer: Any = None

    async def digest_at(self, topic: str, partition: int, offset: int) -> bytes | Unknown | None:
        """The digest of the message at `offset`; None when the log does not reach it (it is
        shorter than before: lost); UNKNOWN when the broker did not answer in time."""
        tp = TopicPartition(topic, partition)
        try:
            async with asyncio.timeout(BROKER_TIMEOUT_S):
                if self._consumer is None:
                    consumer = AIOKafkaConsumer(
                        bootstrap_servers=self.bootstrap, client_id="lienthong-monitor-peek", **kafkaaccess.options()
                    )
                    await consumer.start()
                    self._consumer = consumer
                end = (await self._consumer.end_offsets([tp]))[tp]
                if end <= offset:
                    return None
                self._consumer.assign([tp])
                self._consumer.seek(tp, offset)
                found = (await self._consumer.getmany(tp, timeout_ms=int(BROKER_TIMEOUT_S * 1000), max_records=1)).get(
                    tp, []
                )
        except Exception as exc:  # the broker away: no evidence, the batch goes on as read
            log.debug("message not read back", error=f"{type(exc).__name__}: {exc}")
            return UNKNOWN
        if not found or found[0].offset != offset:
            return UNKNOWN
        return digest(found[0].value or b"")

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
