"""What the monitor worker holds between batches, and what it does with a batch: the open
dossiers of the partitions it owns, their deadlines, the watermark, link and agency health; it
raises and resolves alerts in PostgreSQL and on the alerts topic. The faust app
(streams/app.py) only feeds it.

When may it call a deadline missed? Only once every event stamped before the deadline has been
read (streams/watermark.py). Each tick it writes a `clock.mark` stamped on the tick grid to every
partition it owns; each time the marks read back move the judged time forward, deadlines are
judged there. An event is produced at most `LT_SIM_MAX_LAG_S` (the stamping bound) plus the
relay's delay after its stamp, which is the watermark's lag. A slow monitor, a backlog or a
broker outage therefore delays alerts and never invents them. An alert's `opened_at` is the
judged time that proved it (at most one tick after its deadline); its `raised_at` is the sim
clock when the monitor wrote it, which shows how far the monitor trails.

Replicas: several workers share the topic's partitions through their consumer group. A worker
follows only the dossiers of the partitions it owns (a dossier's events share a partition);
when it takes partitions over it rebuilds their dossiers from the stored events, and when it
gives them up it forgets them. An agency's heartbeats share one partition (they are keyed by
agency), so the worker that owns it judges that agency's silence. Link incidents are raised by
every worker from the transfers it reads (an error rate over its share of the dossiers); their
key comes from event time, so two workers that see one incident write one alert.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
import structlog
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from contracts import topics
from contracts.alerts import PER_DOSSIER_FINDINGS, AlertKind
from contracts.envelope import Event, new_event
from contracts.event_types import AGENCY_HEARTBEAT, CLOCK_MARK
from runtime.conn import Conn
from runtime.db import create_pool
from runtime.kafka import AIOKafkaPublisher
from runtime.settings import Settings
from streams import store
from streams.backlog import Backlog, Met, Snapshot
from streams.contract import ContractCheck
from streams.detect import CLOSED_MEMORY, Finding, Late, Monitor, Recovery
from streams.intake import fresh, parse_batch
from streams.rows import RaisedAlert
from streams.rules import TICK_S, default_rules, judge_lag_s
from streams.signals import AgencySilence, Incident, LinkHealth, data_quality
from streams.tracker import Tracker
from streams.watermark import Grid, Watermark

log = structlog.get_logger()

READ = Counter(
    "lienthong_monitor_events_total", "Lifecycle events the monitor read (first delivery), by type", ["type"]
)


@dataclass
class MonitorCore:
    """Everything the worker holds between batches; the faust app only feeds it."""

    settings: Settings
    pool: asyncpg.Pool | None = None
    publisher: AIOKafkaPublisher | None = None
    monitor: Monitor = field(init=False)
    links: LinkHealth = field(init=False)
    silence: AgencySilence = field(init=False)
    alerts_raised: int = 0
    events_seen: int = 0
    ready: bool = False
    last_mark: datetime | None = None
    """The newest grid point written as a clock mark."""
    owned: frozenset[int] = frozenset()
    """The partitions of the event topic this worker follows (its consumer group's share)."""
    partition_of: dict[str, int] = field(default_factory=dict)
    """Each followed dossier's partition, to forget those of partitions given up."""
    heard_on: dict[str, int] = field(default_factory=dict)
    """Each agency's heartbeat partition: its silence is judged by that partition's owner."""
    backlog: Backlog = field(default_factory=Backlog)
    """Handoffs past their link timeout held until the broker shows where they are."""
    rebuilt_to: dict[int, int] = field(default_factory=dict)
    """Per owned partition, the highest offset this worker has folded in: from the store when it
    took the partition, then from every event it read. A redelivered event past it was stored by
    the previous owner after the rebuild, and is news here; one at or before it was folded in
    already (a re-read after a restart or a rebalance) and must not be applied twice."""

    def __post_init__(self) -> None:
        self.clock = self.settings.clock()
        rules = default_rules()
        self.monitor = Monitor(Tracker(self.settings.chains(), rules))
        self.contract = ContractCheck(self.settings.chains())
        self.links = LinkHealth(rules.link_window, rules.link_error_rate, rules.link_min_samples)
        self.silence = AgencySilence(limit=timedelta(seconds=3 * self.settings.heartbeat_s * self.clock.speed))
        lag = timedelta(seconds=judge_lag_s(self.settings.sim_max_lag_s) * self.clock.speed)
        grid = Grid(self.clock.epoch, timedelta(seconds=TICK_S * self.clock.speed))
        self.watermark = Watermark(self.settings.partitions, lag, grid)
        self.watermark.own(frozenset())
        self._started = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        bootstrap, url = self.settings.require_infra()
        self.pool = await create_pool(url, max_size=4, name="monitor")
        async with self.pool.acquire() as conn:
            await store.apply_schema(conn)
        self.publisher = AIOKafkaPublisher(bootstrap, client_id=self.settings.instance or "monitor")
        await self.publisher.start()
        self.ready = True
        self._started.set()
        log.info("monitor started")

    async def assign(self, partitions: set[int]) -> None:
        """The consumer group gave this worker `partitions`: forget the dossiers of those it gave
        up, rebuild those of the new ones from the stored events (their open alerts stay in the
        table, once), and judge over exactly these from now on."""
        await self._started.wait()
        assert self.pool is not None
        new = frozenset(partitions)
        async with self._lock:
            gone = self.owned - new
            dropped = {d for d, p in self.partition_of.items() if p in gone}
            self.monitor.drop(dropped)
            self.backlog.forget(dropped)
            for d in dropped:
                del self.partition_of[d]
            unheard = {a for a, p in self.heard_on.items() if p in gone}
            self.silence.forget(unheard)
            for a in unheard:
                del self.heard_on[a]
            added = sorted(new - self.owned)
            rebuilt = 0
            if added:
                async with self.pool.acquire() as conn:
                    offsets = await store.stored_offsets(conn, added)
                    replay = await store.open_events(conn, added)
                    closed = await store.closed_dossiers(conn, self.clock.now() - CLOSED_MEMORY, added)
                self.monitor.closed.update(closed)
                for e, p, _ in replay:
                    self.monitor.observe(e)
                    if e.dossier_id:
                        self.partition_of[e.dossier_id] = p
                for p in added:
                    self.rebuilt_to[p] = offsets.get(p, -1)
                rebuilt = len(replay)
            for p in gone:
                self.rebuilt_to.pop(p, None)
            self.owned = new
            self.watermark.own(new)
        log.info(
            "partitions assigned",
            owned=sorted(new),
            taken=added,
            given_up=sorted(gone),
            events_rebuilt=rebuilt,
            dossiers_forgotten=len(dropped),
            open_dossiers=len(self.monitor.dossiers),
        )

    def log_lost(self, partition: int) -> None:
        """The broker lost `partition`'s log (streams/app.py reads it again): the heartbeats in it
        this worker had not read are gone, and the gap they leave is not an agency's silence."""
        self.silence.interrupted({a for a, p in self.heard_on.items() if p == partition})
        self.backlog.log_lost(self.clock.now())

    async def stop(self) -> None:
        """Close what `start` opened: the mark / alert producer and the database pool."""
        if self.publisher is not None:
            await self.publisher.stop()
            self.publisher = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def ingest(self, batch: list[tuple[bytes, int, int]]) -> None:
        parsed = await parse_batch(batch, self.settings.topic_prefix, self.publisher)
        assert self.pool is not None
        raised: list[RaisedAlert] = []
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            stored, duplicates, redelivered = await store.record(conn, parsed)
            # What this worker follows: its own partitions' events it has not folded in yet.
            news = fresh(stored, redelivered, self.rebuilt_to)
            new = [e for e, p, _ in news if p in self.owned]
            self.partition_of.update((e.dossier_id, p) for e, p, _ in news if e.dossier_id and p in self.owned)
            judged = self._marks(parsed)
            settled = await self._fold(conn, new, raised)
            for e in duplicates:
                what = f"{e.type} from {e.agency} delivered again"
                await self._incident(
                    conn, Incident("duplicate", e.dossier_id or "", e.occurred_at, what), raised, key=e.event_id
                )
            for d in settled:
                self.partition_of.pop(d, None)
            await store.forget(conn, list(settled))
            await store.close_with_dossiers(conn, settled)
            # Judged after the batch's events: one met late inside it is `Late`, not a finding.
            for now in judged:
                await self._judge(conn, now, raised)
        await self._publish(raised)

    def _marks(self, parsed: list[tuple[Event, int, int]]) -> list[datetime]:
        """Heartbeats to the silence detector; the judged times the batch's clock marks moved to."""
        judged: list[datetime] = []
        for e, partition, _ in parsed:
            if e.type == AGENCY_HEARTBEAT and partition in self.owned:
                self.silence.observe(e)
                self.heard_on[e.agency] = partition
            elif e.type == CLOCK_MARK and e.agency == "monitor":
                moved = self.watermark.observe(partition, e.occurred_at)
                if moved is not None:
                    judged.append(moved)
        return judged

    async def _fold(self, conn: Conn, new: list[Event], raised: list[RaisedAlert]) -> dict[str, datetime]:
        """The new events folded into their dossiers: late expectations raised, recoveries
        resolved, data-quality incidents; the dossiers that settled, with when."""
        settled: dict[str, datetime] = {}
        for e in new:
            self.events_seen += 1
            READ.labels(e.type).inc()
            self.links.observe(e)
            for r in self.monitor.observe(e):
                if isinstance(r, Late):
                    alert = await self._late(conn, r)
                    if alert:
                        raised.append(alert)
                else:
                    met = self.backlog.met(r.dossier_id, r.expectation.key, None if r.proven else r.recovered_at)
                    if met is Met.LATE:
                        alert = await self._late(conn, Late(r.dossier_id, r.expectation, r.recovered_at, r.how))
                        if alert:
                            raised.append(alert)
                    elif met is Met.NOT_HELD:
                        await self._recover(conn, r)
            await self._incident(conn, data_quality(e), raised, key=e.event_id)
            await self._incident(conn, self.contract.observe(e), raised, key=e.event_id)
            if e.dossier_id and e.dossier_id not in self.monitor.dossiers:
                settled[e.dossier_id] = e.occurred_at
        return settled

    async def _judge(self, conn: Conn, now: datetime, raised: list[RaisedAlert]) -> None:
        for f in self.monitor.tick(now):
            if f.expectation.kind == AlertKind.LOST:
                # Lost only once the receiver has read past it (streams/backlog.py).
                self.backlog.hold(f, f.expectation.subject.rpartition("->")[2], time.monotonic())
                continue
            alert = await self._finding(conn, f)
            if alert:
                raised.append(alert)
        for incident in [*self.silence.tick(now), *self.links.tick(now)]:
            await self._incident(conn, incident, raised)

    async def settle(self, snap: Snapshot, read: Mapping[int, int] | None = None) -> None:
        """The broker's positions for the held handoffs: lost verdicts and infrastructure incidents;
        `read`: the next offset this worker handles on each event partition it has read."""
        if self.pool is None or self.watermark.judged is None:
            return
        raised: list[RaisedAlert] = []
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            settled = self.backlog.settle(snap, self.watermark.judged, read)
            for f in settled.lost:
                if alert := await self._finding(conn, f):
                    raised.append(alert)
            for incident in settled.incidents:
                await self._incident(conn, incident, raised)
        await self._publish(raised)

    async def tick(self) -> None:
        """Write the grid points passed since the last tick as clock marks, in order, to every
        partition this worker owns; reading them back (in `ingest`) is what moves the judged time."""
        if not self.ready or not self.owned:
            return
        publisher = self.publisher
        assert publisher is not None
        points = self.watermark.grid.points(self.last_mark, self.clock.now())
        if not points:
            return
        topic = topics.dossier_events(self.settings.topic_prefix)

        async def mark(p: int) -> None:
            for at in points:
                e = new_event(CLOCK_MARK, "monitor", at, dossier_id=None, chain=None, payload={"partition": p})
                await publisher.publish_to(topic, p, e.to_json())

        try:
            await asyncio.gather(*(mark(p) for p in sorted(self.owned)))
        except (KafkaError, TimeoutError) as exc:
            # The broker is away: the same grid points are written once it is back, in order.
            log.warning("clock marks not written", error=str(exc), behind=len(points))
            return
        self.last_mark = points[-1]

    async def _finding(self, conn: Conn, f: Finding) -> RaisedAlert | None:
        x = f.expectation
        return await store.open_alert(
            conn,
            kind=x.kind,
            subject=x.subject,
            key=f"{f.dossier_id}:{x.key}",
            detail=x.detail,
            opened_at=f.detected_at,
            raised_at=self.clock.now(),
            dossier_id=f.dossier_id,
            due_at=x.due_at,
        )

    async def _late(self, conn: Conn, r: Late) -> RaisedAlert | None:
        x = r.expectation
        # No judged time had reached the deadline yet; the late event's own stamp proves it
        # passed, by the judged time that would have reported it at the latest.
        alert = await store.open_alert(
            conn,
            kind=x.kind,
            subject=x.subject,
            key=f"{r.dossier_id}:{x.key}",
            detail=f"{x.detail} (late: {r.how} at {r.met_at.isoformat()})",
            opened_at=min(self.watermark.first_judged_after(x.due_at), r.met_at),
            raised_at=self.clock.now(),
            dossier_id=r.dossier_id,
            due_at=x.due_at,
        )
        await store.resolve(
            conn, kind=x.kind, subject=x.subject, key=f"{r.dossier_id}:{x.key}", at=r.met_at, how=f"{r.how} (late)"
        )
        return alert

    async def _recover(self, conn: Conn, r: Recovery) -> None:
        x = r.expectation
        await store.resolve(
            conn, kind=x.kind, subject=x.subject, key=f"{r.dossier_id}:{x.key}", at=r.recovered_at, how=r.how
        )

    async def _incident(
        self, conn: Conn, incident: Incident | None, raised: list[RaisedAlert], key: str | None = None
    ) -> None:
        if incident is None:
            return
        if not incident.opened:
            await store.resolve(
                conn, kind=incident.kind, subject=incident.subject, key=None, at=incident.at, how=incident.detail
            )
            return
        dossier = incident.subject if incident.kind in PER_DOSSIER_FINDINGS else None
        alert = await store.open_alert(
            conn,
            kind=incident.kind,
            subject=incident.subject,
            key=key or incident.at.isoformat(),
            detail=incident.detail,
            opened_at=incident.at,
            raised_at=self.clock.now(),
            dossier_id=dossier,
        )
        if alert:
            raised.append(alert)

    async def _publish(self, raised: list[RaisedAlert]) -> None:
        if not raised or self.publisher is None:
            return
        self.alerts_raised += len(raised)
        topic = topics.alerts(self.settings.topic_prefix)
        await self.publisher.publish_many(
            [
                (topic, (a["dossier_id"] or a["subject"]).encode(), json.dumps(a, ensure_ascii=False).encode())
                for a in raised
            ]
        )

    def status(self) -> dict[str, object]:
        return {
            "agency": "monitor",
            "instance": self.settings.instance or "monitor",
            "ready": self.ready,
            "partitions": sorted(self.owned),
            "events": self.events_seen,
            "open_dossiers": len(self.monitor.dossiers),
            "pending_deadlines": len(self.monitor.index),
            "alerts_raised": self.alerts_raised,
            "judged_at": (lambda t: t.isoformat() if t else None)(self.watermark.judged),
            "heartbeats": {a: t.isoformat() for a, t in sorted(self.silence.newest().items())},
            "held": self.backlog.waiting(),
            "unsettled": self.backlog.unsettled(),
        }
