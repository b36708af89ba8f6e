"""The monitor worker as a faust-streaming app: it consumes the dossier-events topic in its
consumer group (replicas split the partitions), feeds `MonitorCore` (streams/core.py) batches,
ticks and partition assignments, and serves /healthz and /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust
import structlog
from aiokafka.errors import KafkaError

from contracts import topics
from runtime import kafkaaccess
from runtime.kafka import SESSION_TIMEOUT_S
from runtime.metrics import render
from runtime.settings import Settings
from streams import gauges
from streams.broker import SETTLE_S, UNKNOWN, Positions, RecordPeek
from streams.core import MonitorCore
from streams.positions import Continuity, Coverage, LogWatch
from streams.rules import TICK_S

log = structlog.get_logger()

LOG_CHECK_S = 1.0
"""Real seconds between checks that the broker still holds the logs the worker has read."""


@dataclass
class Reading:
    """What the worker knows of the logs it reads, and what a lost one means to the core."""

    watch: LogWatch[Any]
    coverage: Coverage[Any]
    continuity: Continuity[Any]
    on_lost: Callable[[Any], None]


async def reread_lost_logs(app: faust.App, reading: Reading) -> None:
    """Read again from its start every partition whose log the broker lost (streams/positions.py).
    Faust forgets what it knew of the partition (read, acked and committed offsets) as it does when
    a partition is revoked; events the monitor already stored are recognised by their id."""
    consumer: Any = app.consumer  # the offsets below are faust's private memory, untyped
    tps = sorted(consumer.assignment())
    if not tps:
        return
    # What was read before the end offsets are asked for: the worker goes on reading while the
    # request is out, and a position taken after it can pass the end it returns (which looked
    # like a lost log and re-read whole partitions in a half-year run).
    read = {
        tp: _highest(consumer._read_offset.get(tp), consumer._committed_offset.get(tp), *consumer._acked.get(tp, ()))
        for tp in tps
    }
    try:
        ends = await consumer.highwaters(*tps)
    except (KafkaError, TimeoutError, AssertionError) as exc:  # broker away: next check
        log.debug("end offsets not read", error=str(exc))
        return
    for tp in sorted(reading.watch.lost(ends, read)):
        log.warning(
            "partition log lost by the broker; reading it again from the start",
            topic=tp.topic,
            partition=tp.partition,
            end=ends[tp],
            read=read[tp],
        )
        await reread(app, reading, tp)


async def reread(app: faust.App, reading: Reading, tp: Any) -> None:
    """Read `tp` again from its start: the broker lost its log."""
    reading.on_lost(tp)
    await rewind(app.consumer, tp, 0)
    reading.watch.seen[tp] = 0
    reading.coverage.watch(tp, 0, time.monotonic())
    reading.continuity.forget(tp)


async def continued(app: faust.App, reading: Reading, peek: RecordPeek, batch: list[Any]) -> list[Any]:
    """The batch without the partitions whose log is not the one read before (streams/positions.py,
    `Continuity`): those are read again from their start."""
    firsts: dict[Any, int] = {}
    for e in batch:
        firsts.setdefault(e.message.tp, e.message.offset)
    now = time.monotonic()
    lost: set[Any] = set()
    for tp, first in firsts.items():
        look = reading.continuity.look(tp, first, now)
        if look is None:
            continue
        found = await peek.digest_at(tp.topic, tp.partition, look.offset)
        if found is not UNKNOWN and found != look.digest:
            log.warning(
                "partition log replaced by the broker under the worker; reading it again from the start",
                topic=tp.topic,
                partition=tp.partition,
                last_handled=look.offset,
                next_read=first,
            )
            lost.add(tp)
            await reread(app, reading, tp)
    return [e for e in batch if e.message.tp not in lost] if lost else batch


def handled(continuity: Continuity[Any], batch: list[Any]) -> None:
    now = time.monotonic()
    last: dict[Any, Any] = {}
    for e in batch:
        last[e.message.tp] = e
    for tp, e in last.items():
        continuity.handled(tp, e.message.offset, e.value, now)


async def rewind(consumer: Any, tp: Any, offset: int) -> None:
    """Read `tp` again from `offset`. Faust forgets what it knew of the partition beyond it (read,
    acknowledged and committed offsets), as it does when a partition is revoked."""
    for memo in (consumer._acked, consumer._acked_index, consumer._gap, consumer._committed_offset):
        memo.pop(tp, None)
    await consumer.seek(tp, offset)


async def admit(app: faust.App, coverage: Coverage[Any], batch: list[Any]) -> list[Any]:
    """The batch without what lies past a skip on a re-read partition (streams/positions.py),
    which is read again from the first offset skipped."""
    by_tp: dict[Any, list[Any]] = {}
    for e in batch:
        by_tp.setdefault(e.message.tp, []).append(e)
    now = time.monotonic()
    kept: list[Any] = []
    for tp, events in by_tp.items():
        n, again = coverage.admit(tp, [e.message.offset for e in events], now)
        kept += events[:n]
        if again is not None:
            log.warning(
                "offsets skipped on a re-read partition; reading them again",
                topic=tp.topic,
                partition=tp.partition,
                skipped_from=again,
                next_read=events[n].message.offset,
            )
            await rewind(app.consumer, tp, again)
    return kept


def _highest(*offsets: int | None) -> int | None:
    """The highest offset faust remembers for a partition: read, acknowledged or committed.
    After a broker restart an ack of an old offset can land after the log was found lost and
    read again from its start; committed, and taken back at the next rebalance, it would make the
    worker drop everything below it."""
    known = [o for o in offsets if o is not None]
    return max(known) if known else None


async def settle_held(core: MonitorCore, positions: Positions, reading: Reading, events_topic: str) -> None:
    """The broker's positions for the handoffs the monitor holds (streams/backlog.py), with how far
    this worker has read the event topic; asked only while some are held or an incident is open."""
    if core.ready and core.backlog.busy():
        snap = await positions.snapshot(core.backlog.agencies())
        if snap is not None:
            last = reading.continuity.last.items()
            await core.settle(snap, {tp.partition: at + 1 for tp, (at, _, _) in last if tp.topic == events_topic})


def heard_lost(core: MonitorCore, events_topic: str, tp: Any) -> None:
    """A lost log of the event topic took agencies' heartbeats with it (MonitorCore.log_lost)."""
    if tp.topic == events_topic:
        core.log_lost(tp.partition)


def taken_over(core: MonitorCore, coverage: Coverage[Any], events_topic: str, tps: Any) -> Awaitable[None]:
    """The group gave this worker `tps`: each is watched for skips a while, and the core follows
    the event topic's partitions among them."""
    now = time.monotonic()
    for tp in tps:
        coverage.extend(tp, now)
    return core.assign({tp.partition for tp in tps if tp.topic == events_topic})


def faust_app(settings: Settings, port: int, bootstrap: str) -> faust.App:
    """The worker's faust app, in its run's consumer group."""
    prefix = settings.topic_prefix
    # One consumer group per simulation (its clock's anchor): a run starts on fresh topics, and a
    # new group need not wait for the previous run's member to time out.
    run = int(settings.sim_anchor) if settings.sim_anchor is not None else 0
    datadir = settings.home.resolve() / "monitor-data" / (settings.instance or "monitor")
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        f"{prefix}.monitor.{run}",
        broker=f"kafka://{bootstrap}",
        broker_credentials=kafkaaccess.faust_credentials(),
        value_serializer="raw",
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        producer_acks=-1,
        web_enabled=True,
        web_port=port,
        web_bind=settings.bind_host,
        web_in_thread=False,
        broker_commit_interval=0.5,
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=1.0,
        consumer_auto_offset_reset="earliest",
        datadir=str(datadir),
    )


def build(settings: Settings, port: int) -> faust.App:
    bootstrap, _ = settings.require_infra()
    prefix = settings.topic_prefix
    app = faust_app(settings, port, bootstrap)
    core = MonitorCore(settings)
    events_topic = topics.dossier_events(prefix)
    reading = Reading(LogWatch(), Coverage(), Continuity(), lambda tp: heard_lost(core, events_topic, tp))
    peek = RecordPeek(bootstrap)
    events = app.topic(events_topic, value_type=bytes, value_serializer="raw")

    @app.task
    async def start() -> None:
        await core.start()

    @app.agent(events)
    async def follow(stream: Any) -> None:
        async for batch in stream.take_events(500, within=0.2):
            while not core.ready:
                await app.sleep(0.1)
            kept = await admit(app, reading.coverage, await continued(app, reading, peek, batch))
            await core.ingest([(e.value, e.message.partition, e.message.offset) for e in kept])
            handled(reading.continuity, kept)

    @app.timer(TICK_S)
    async def tick() -> None:
        await core.tick()

    positions = Positions(bootstrap, prefix)

    @app.timer(SETTLE_S)
    async def backlog() -> None:
        await settle_held(core, positions, reading, events_topic)

    @app.timer(LOG_CHECK_S)
    async def logs() -> None:
        await reread_lost_logs(app, reading)

    async def shutdown(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        await positions.stop()
        await peek.stop()
        await core.stop()

    app.on_before_shutdown.connect(shutdown)

    def assigned(sender: Any, /, *args: Any, signal: Any, **__: Any) -> Awaitable[None]:
        return taken_over(core, reading.coverage, events_topic, args[0])

    app.on_partitions_assigned.connect(assigned)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        await gauges.refresh(core.pool, app.consumer, core.monitor.tracker.calendar, core.watermark.judged)
        body, content_type = render()
        # As a header: aiohttp refuses a content_type argument with a charset in it, and the
        # Prometheus client's type has one (`...; charset=utf-8`): /metrics answered 500.
        return web.bytes(body, headers={"Content-Type": content_type})

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        body = core.status()
        return web.json(body, status=200 if body["ready"] else 503)

    return app
