"""What an agency still has to do: the evidence the run's clock advances on.

A governed run moves sim time past a moment `t` only once every agency has shown that nothing
due at or before `t` is left undone (simulation/horizon.py). An agency shows it at
`GET /progress`, on top of its /healthz body:
- `unread`: messages on the partitions it owns past its read position, by the broker's end
  offsets (partitions a simulated outage holds are not counted: their messages are due when it
  ends); null when the broker did not answer in time, which proves nothing;
- `in_hand`: messages read and not yet committed (their transaction is under way);
- `next_due`: the sim time of the earliest thing still to come from this agency: a task's next
  milestone, an outbox message's release, the end of an outage that keeps it closed;
- `counts`: messages processed and published and task batches advanced since it started; the
  same counts in two answers prove that nothing moved between them.

Nothing here warns of a fault: an agency that is killed, frozen or cut off from the broker simply
does not answer, or answers `unread: null`, and sim time stays where it was proven.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime import kafkaaccess
from runtime.outbox import GOES_NOW

if TYPE_CHECKING:
    from runtime.agency import AgencyWorker

BROKER_TIMEOUT_S = 1.0
"""How long the end offsets may take; a partition without a leader answers never."""


class EndOffsets:
    """The broker's end offsets, asked on a connection of their own: on the consumer's, the
    request waits behind its long-polling fetch (up to `fetch_max_wait_ms`), and a proof, two
    rounds of /progress, took 150 ms where the broker answers in 2 ms."""

    def __init__(self, bootstrap: str, client_id: str, factory: Callable[..., Any] = AIOKafkaConsumer) -> None:
        self._bootstrap, self._client_id, self._factory = bootstrap, client_id, factory
        self._reader: Any = None
        self._retired: set[asyncio.Task[None]] = set()

    async def of(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if self._reader is None:
            reader = self._factory(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                enable_auto_commit=False,
                **kafkaaccess.options(),
            )
            try:
                await reader.start()
            except BaseException:  # cancelled by the caller's timeout, or the broker away
                await reader.stop()
                raise
            self._reader = reader
        try:
            return {tp: int(o) for tp, o in (await self._reader.end_offsets(partitions)).items()}
        except BaseException:
            # A request that failed or was cut off by the caller's timeout leaves the reader's
            # metadata as it was: after a Kafka node was killed, it kept asking the dead leader,
            # each try cut off before the client refreshed, and sim time stood 285 s until the
            # metadata's maximum age ran out. The next question goes on a fresh reader.
            self._retire()
            raise

    def _retire(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            task = asyncio.get_running_loop().create_task(_quietly_stopped(reader))
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)

    async def stop(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.stop()


async def _quietly_stopped(reader: Any) -> None:
    with contextlib.suppress(Exception):
        await reader.stop()


async def unread(worker: AgencyWorker) -> int | None:
    """Messages on the worker's partitions past its read positions; None if unknown."""
    loop, consumer = worker.loop, worker.consumer
    if loop is None or consumer is None:
        return None
    closed = worker.sim.closed(worker.agency, worker.clock.now()) is not None
    owned = [tp for tp in consumer.assignment() if not (closed and tp in loop.held)]
    if not owned:
        return 0
    try:
        async with asyncio.timeout(BROKER_TIMEOUT_S):
            ends = await worker.ends.of(owned)
            positions = [await consumer.position(tp) for tp in owned]
    except Exception:  # any failure of the broker or the group proves nothing
        return None
    return sum(max(0, int(ends[tp]) - int(pos)) for tp, pos in zip(owned, positions, strict=True))


async def next_due(worker: AgencyWorker) -> datetime | None:
    """The earliest sim time at which this agency has something to do, if any."""
    async with worker.pool.acquire() as conn:
        times = [await worker.task_store.next_due(conn), await worker.outbox.next_release(conn)]
    times.append(worker.sim.closed(worker.agency, worker.clock.now()))
    return min((t for t in times if t is not None), default=None)


class Progress(TypedDict):
    """An agency's /progress body."""

    unread: int | None
    in_hand: int
    next_due: str | None
    owned: list[int]
    total: int
    counts: list[int]


async def report(worker: AgencyWorker) -> Progress:
    """The /progress fields (see the module docstring)."""
    due = await next_due(worker)
    consumer = worker.consumer
    total = len(consumer.partitions_for_topic(worker.topic) or ()) if consumer is not None else 0
    return {
        "unread": await unread(worker),
        "in_hand": worker.loop.in_hand if worker.loop is not None else 0,
        "next_due": None if due is None else ("now" if due == GOES_NOW else due.isoformat()),
        "owned": worker.assignments.partitions,
        "total": total,
        "counts": [worker.processed, worker.relay.published, worker.tasks.advanced],
    }
