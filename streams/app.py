"""The monitor worker (faust-streaming): consumes the dossier-events topic, keeps every open
dossier's expectations, raises alerts to PostgreSQL and the alerts topic, and resolves them.

When may it call a deadline missed? Only once every event stamped before the deadline has been
read. Each tick it writes a `clock.mark` stamped with the sim clock to every partition of the
topic; reading a mark back proves it has read all that was produced to that partition before.
An event is produced at most `LT_SIM_MAX_LAG_S` (the stamping bound) plus the relay's delay after
its stamp, so deadlines are judged at `min over partitions of the last mark read − (max lag +
relay allowance) × speed`. A slow monitor, a backlog or a broker outage therefore delays alerts
and never invents them. An alert's `opened_at` is that judged time, so its delay after the
deadline is about one tick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import faust
import structlog

from contracts import topics
from contracts.envelope import Event, new_event, parse_event
from contracts.errors import ContractError
from services.runtime.db import create_pool
from services.runtime.kafka import AIOKafkaPublisher
from services.runtime.settings import Settings
from streams import store
from streams.detect import Finding, Late, Monitor, Recovery
from streams.rules import TICK_S, default_rules
from streams.signals import AgencySilence, Incident, LinkHealth, data_quality
from streams.tracker import Tracker

log = structlog.get_logger()

RELAY_ALLOWANCE_S = 2.0
"""Real seconds an event may wait in its producer's outbox after its transaction commits."""


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
    marks: dict[int, datetime] = field(default_factory=dict)
    """Partition → the newest clock mark read back from it."""

    def __post_init__(self) -> None:
        self.clock = self.settings.clock()
        rules = default_rules()
        self.monitor = Monitor(Tracker(self.settings.chains(), rules))
        self.links = LinkHealth(rules.link_window, rules.link_error_rate, rules.link_min_samples)
        self.silence = AgencySilence(limit=timedelta(seconds=3 * self.settings.heartbeat_s * self.clock.speed))
        self.lag = timedelta(seconds=(self.settings.sim_max_lag_s + RELAY_ALLOWANCE_S) * self.clock.speed)

    def judged_now(self) -> datetime | None:
        """The sim time up to which every event has been read; None until each partition answered."""
        if len(self.marks) < self.settings.partitions:
            return None
        return min(self.marks.values()) - self.lag

    async def start(self) -> None:
        bootstrap, url = self.settings.require_infra()
        self.pool = await create_pool(url, max_size=4, name="monitor")
        async with self.pool.acquire() as conn:
            await store.apply_schema(conn)
            replay = await store.open_events(conn)
        for e in replay:  # rebuild the open dossiers; their open alerts stay in the table, once
            self.monitor.observe(e)
        self.publisher = AIOKafkaPublisher(bootstrap, client_id="monitor")
        await self.publisher.start()
        self.ready = True
        log.info("monitor started", replayed=len(replay), open_dossiers=len(self.monitor.dossiers))

    async def ingest(self, batch: list[tuple[bytes, int, int]]) -> None:
        parsed: list[tuple[Event, int, int]] = []
        for raw, partition, offset in batch:
            try:
                parsed.append((parse_event(raw), partition, offset))
            except ContractError as exc:
                log.warning("invalid lifecycle event skipped", partition=partition, offset=offset, reason=str(exc))
        assert self.pool is not None
        raised: list[dict[str, Any]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            new, duplicates = await store.record(conn, parsed)
            for e, partition, _ in parsed:
                if e.type == "agency.heartbeat":
                    await self._incident(conn, self.silence.observe(e), raised)
                elif e.type == "clock.mark" and e.agency == "monitor":
                    self.marks[partition] = max(e.occurred_at, self.marks.get(partition, e.occurred_at))
            settled: list[str] = []
            for e in new:
                self.events_seen += 1
                for r in self.monitor.observe(e):
                    if isinstance(r, Late):
                        alert = await self._late(conn, r)
                        if alert:
                            raised.append(alert)
                    else:
                        await self._recover(conn, r)
                await self._incident(conn, self.links.observe(e), raised)
                await self._incident(conn, data_quality(e), raised, key=e.event_id)
                if e.dossier_id and e.dossier_id not in self.monitor.dossiers:
                    settled.append(e.dossier_id)
            for e in duplicates:
                await self._incident(
                    conn,
                    Incident(
                        "duplicate", e.dossier_id or "", e.occurred_at, f"{e.type} from {e.agency} delivered again"
                    ),
                    raised,
                    key=e.event_id,
                )
            await store.forget(conn, settled)
        await self._publish(raised)

    async def tick(self) -> None:
        if not self.ready:
            return
        assert self.pool is not None
        assert self.publisher is not None
        topic = topics.dossier_events(self.settings.topic_prefix)
        for partition in range(self.settings.partitions):
            mark = new_event(
                "clock.mark", "monitor", self.clock.now(), dossier_id=None, chain=None, payload={"partition": partition}
            )
            await self.publisher.publish_to(topic, partition, mark.to_json())
        now = self.judged_now()
        if now is None:
            return
        raised: list[dict[str, Any]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            for f in self.monitor.tick(now):
                alert = await self._finding(conn, f)
                if alert:
                    raised.append(alert)
            for incident in [*self.silence.tick(now), *self.links.tick(now)]:
                await self._incident(conn, incident, raised)
        await self._publish(raised)

    async def _finding(self, conn: Any, f: Finding) -> dict[str, Any] | None:
        x = f.expectation
        return await store.open_alert(
            conn,
            kind=x.kind,
            subject=x.subject,
            key=f"{f.dossier_id}:{x.key}",
            detail=x.detail,
            opened_at=f.detected_at,
            dossier_id=f.dossier_id,
            due_at=x.due_at,
        )

    async def _late(self, conn: Any, r: Late) -> dict[str, Any] | None:
        x = r.expectation
        judged = self.judged_now()
        opened = max(x.due_at, judged) if judged else x.due_at
        alert = await store.open_alert(
            conn,
            kind=x.kind,
            subject=x.subject,
            key=f"{r.dossier_id}:{x.key}",
            detail=f"{x.detail} (late: {r.how} at {r.met_at.isoformat()})",
            opened_at=min(opened, r.met_at),
            dossier_id=r.dossier_id,
            due_at=x.due_at,
        )
        await store.resolve(
            conn, kind=x.kind, subject=x.subject, key=f"{r.dossier_id}:{x.key}", at=r.met_at, how=f"{r.how} (late)"
        )
        return alert

    async def _recover(self, conn: Any, r: Recovery) -> None:
        x = r.expectation
        await store.resolve(
            conn, kind=x.kind, subject=x.subject, key=f"{r.dossier_id}:{x.key}", at=r.recovered_at, how=r.how
        )

    async def _incident(
        self, conn: Any, incident: Incident | None, raised: list[dict[str, Any]], key: str | None = None
    ) -> None:
        if incident is None:
            return
        if not incident.opened:
            await store.resolve(
                conn, kind=incident.kind, subject=incident.subject, key=None, at=incident.at, how=incident.detail
            )
            return
        dossier = incident.subject if incident.kind in ("duplicate", "data_quality") else None
        alert = await store.open_alert(
            conn,
            kind=incident.kind,
            subject=incident.subject,
            key=key or incident.at.isoformat(),
            detail=incident.detail,
            opened_at=incident.at,
            dossier_id=dossier,
        )
        if alert:
            raised.append(alert)

    async def _publish(self, raised: list[dict[str, Any]]) -> None:
        if not raised or self.publisher is None:
            return
        self.alerts_raised += len(raised)
        topic = topics.alerts(self.settings.topic_prefix)
        await self.publisher.publish_many(
            [
                (topic, (a.get("dossier_id") or a["subject"]).encode(), json.dumps(a, ensure_ascii=False).encode())
                for a in raised
            ]
        )

    def status(self) -> dict[str, Any]:
        return {
            "agency": "monitor",
            "ready": self.ready,
            "events": self.events_seen,
            "open_dossiers": len(self.monitor.dossiers),
            "pending_deadlines": len(self.monitor.index),
            "alerts_raised": self.alerts_raised,
            "judged_at": (lambda t: t.isoformat() if t else None)(self.judged_now()),
        }


def build(settings: Settings, port: int) -> faust.App:
    bootstrap, _ = settings.require_infra()
    prefix = settings.topic_prefix
    # One consumer group per simulation (its clock's anchor): a run starts on fresh topics, and a
    # new group need not wait for the previous run's member to time out.
    run = int(settings.sim_anchor) if settings.sim_anchor is not None else 0
    app = faust.App(
        f"{prefix}.monitor.{run}",
        broker=f"kafka://{bootstrap}",
        value_serializer="raw",
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        producer_acks=-1,
        web_enabled=True,
        web_port=port,
        web_bind="127.0.0.1",
        web_in_thread=False,
        broker_commit_interval=0.5,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        consumer_auto_offset_reset="earliest",
        datadir=str(settings.home.resolve() / "monitor-data"),
    )
    core = MonitorCore(settings)
    events = app.topic(topics.dossier_events(prefix), value_type=bytes, value_serializer="raw")

    @app.task
    async def start() -> None:
        await core.start()

    @app.agent(events)
    async def follow(stream: Any) -> None:
        async for batch in stream.take_events(500, within=0.2):
            while not core.ready:
                await app.sleep(0.1)
            await core.ingest([(e.value, e.message.partition, e.message.offset) for e in batch])

    @app.timer(TICK_S)
    async def tick() -> None:
        await core.tick()

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        body = core.status()
        return web.json(body, status=200 if body["ready"] else 503)

    return app
