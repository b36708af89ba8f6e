"""An agency's receive loop, apart from what it receives: poll a batch, hand it on, commit the read
positions only once the batch's transaction committed.

The loop talks to the broker through `Source` (the few calls of aiokafka's consumer it uses) and
to the agency through `Receiver`, so it runs in unit tests with a fake of each
(`tests/unit/services/runtime/test_consume_loop.py`). What it guarantees:
- primers (runtime/kafka.py) are skipped, admin commands go to `obey`, the rest to `process`;
- a batch whose database connection was lost is not committed: each partition is read again
  from the batch's first offset, and nothing is lost or skipped;
- while the agency is closed (only the simulation port closes one), what reached it before it
  closed is taken in and each partition is paused at the first message that came after
  (`Receiver.arrived_before`); the partitions resume when it opens.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog

from runtime.db import DB_LOST, DB_RETRY_S
from runtime.kafka import commit, is_primer
from runtime.metrics import CONSUMER_LAG

log = structlog.get_logger()


class Source(Protocol):
    """What the loop asks of a Kafka consumer (aiokafka's `AIOKafkaConsumer` is one)."""

    async def getmany(self, *partitions: Any, timeout_ms: int = 0, max_records: int | None = None) -> Any: ...

    def seek(self, partition: Any, offset: int) -> None: ...

    def pause(self, *partitions: Any) -> None: ...

    def resume(self, *partitions: Any) -> None: ...

    def highwater(self, partition: Any) -> int | None: ...

    async def commit(self) -> None: ...


class Receiver(Protocol):
    """The agency's side: what to do with a batch, and whether a simulated outage holds it."""

    agency: str

    def closed_since(self) -> datetime | None:
        """When the outage that keeps the agency closed now began, or None."""
        ...

    def arrived_before(self, batches: dict[Any, list[Any]], opens: datetime) -> tuple[list[Any], dict[Any, int]]:
        """What of the batch reached the agency before its outage began (`opens`), and per
        partition the offset from which the rest waits (the simulation port decides)."""
        ...

    def is_command(self, record: Any) -> bool: ...

    async def process(self, records: Sequence[Any]) -> None:
        """Apply the batch's messages in one transaction (raises a `DB_LOST` error to retry it)."""
        ...

    async def obey(self, records: Sequence[Any]) -> None: ...


@dataclass
class ConsumeLoop:
    source: Source
    receiver: Receiver
    batch_size: int = 200
    held: set[Any] = field(default_factory=set)
    """Partitions paused until the outage ends."""
    batches: int = 0
    """Batches committed."""
    in_hand: int = 0
    """Messages of the batch being handled, read and not yet committed (runtime/progress.py)."""
    backlog: dict[Any, int] = field(default_factory=dict)
    """Per partition, the messages behind the last one handled (a governed run's leading sign
    that this agency falls behind, before any stamp is late)."""

    async def run(self) -> None:
        while True:
            await self.once()

    async def once(self) -> bool:
        """Poll and handle one batch; True when a batch was handled and committed."""
        closed = self.receiver.closed_since()
        if closed is None and self.held:
            self.source.resume(*self.held)
            self.held.clear()
        # In an outage, a short poll: the outage's end is seen at once, not after a wait.
        batches: dict[Any, list[Any]] = await self.source.getmany(
            timeout_ms=500 if closed is None else 50, max_records=self.batch_size
        )
        if closed is not None:
            batches = self._before(batches, closed)
        records = [r for rs in batches.values() for r in rs if not is_primer(r.headers)]
        self.in_hand = len(records)
        try:
            return await self._handle(batches, records, closed)
        finally:
            self.in_hand = 0

    async def _handle(self, batches: dict[Any, list[Any]], records: list[Any], closed: datetime | None) -> bool:
        if not records:
            if closed is None:
                self.backlog.clear()  # a whole poll found nothing to read: nothing waits
            if closed is not None:
                await asyncio.sleep(0.05)  # the poll was short: no busy loop through a long outage
            return False
        try:
            # In the order read: after a broker crash, a replay command sent while the agency
            # was frozen precedes the new work on its partition, and what it publishes again
            # must too (handled after, a replayed receipt reached the monitor after the
            # dossier's closing).
            for commands, run in itertools.groupby(records, key=self.receiver.is_command):
                if commands:
                    await self.receiver.obey(list(run))
                else:
                    await self.receiver.process(list(run))
        except DB_LOST as exc:
            # Nothing of the batch was committed: read it again from the last commit, rather
            # than end the process and wait for the group to take it back.
            log.warning("database connection lost; the batch is read again", error=str(exc))
            await asyncio.sleep(DB_RETRY_S)
            for tp, rs in batches.items():
                if rs:
                    self.source.seek(tp, rs[0].offset)
            return False
        await commit(self.source)
        self.batches += 1
        for tp, rs in batches.items():
            if rs:
                lag = max(0, (self.source.highwater(tp) or 0) - rs[-1].offset - 1)
                self.backlog[tp] = lag
                CONSUMER_LAG.labels(self.receiver.agency, tp.topic, str(tp.partition)).set(lag)
        return True

    def _before(self, batches: dict[Any, list[Any]], closed: datetime) -> dict[Any, list[Any]]:
        """What of the batch reached the agency before its outage; the rest waits, paused."""
        kept, stop = self.receiver.arrived_before(batches, closed)
        for tp, offset in stop.items():
            self.source.seek(tp, offset)
            self.source.pause(tp)
            self.held.add(tp)
        taken = {id(r) for r in kept}
        return {tp: [r for r in rs if id(r) in taken] for tp, rs in batches.items()}
