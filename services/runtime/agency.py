"""The consume loop every agency shares.

Per batch: decode and validate each message (refused ones go to the dead-letter topic with the
reason); then, in one transaction with a savepoint per message, record the event id in the inbox
(a duplicate is a no-op), run the agency's handler, and queue the lifecycle events and the next
handoffs in the outbox. Offsets are committed only after the transaction commits.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import ConsumerRecord

from contracts import topics
from contracts.chains import Chain, Route
from contracts.clock import SimClock
from contracts.envelope import Event, new_event, parse_event
from contracts.errors import ContractError, Problem
from services.runtime import outbox
from services.runtime.kafka import consumer
from services.runtime.outbox import OutboxRelay
from services.runtime.work import Absorbed, Completed, Handler, Outcome, StepContext, WorkItem

log = structlog.get_logger()


class AgencyWorker:
    def __init__(
        self,
        *,
        agency: str,
        handlers: Mapping[str, Handler],
        pool: asyncpg.Pool,
        relay: OutboxRelay,
        bootstrap: str,
        prefix: str,
        clock: SimClock,
        chains: Mapping[str, Chain],
        batch_size: int = 200,
        seed: int = 0,
    ) -> None:
        self.agency = agency
        self.handlers = handlers
        self.pool = pool
        self.relay = relay
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.batch_size = batch_size
        self.ctx = StepContext(agency=agency, clock=clock, chains=chains, rng=random.Random(seed))
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.assigned = False

    @property
    def schema(self) -> str:
        return self.agency

    async def run(self) -> None:
        c = consumer(
            self.bootstrap, [topics.work(self.agency, self.prefix)], f"{self.prefix}.{self.agency}", self.agency
        )
        await c.start()
        try:
            while True:
                batches = await c.getmany(timeout_ms=500, max_records=self.batch_size)
                self.assigned = bool(c.assignment())
                records = [r for rs in batches.values() for r in rs]
                if records:
                    await self.process(records)
                    await c.commit()
        finally:
            await c.stop()

    async def process(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        items: list[tuple[ConsumerRecord[Any, Any], WorkItem]] = []
        refused: list[tuple[ConsumerRecord[Any, Any], str]] = []
        for record in records:
            try:
                items.append((record, self.decode(record.value)))
            except ContractError as exc:
                refused.append((record, str(exc)))
        async with self.pool.acquire() as conn, conn.transaction():
            for record, item in items:
                with structlog.contextvars.bound_contextvars(
                    dossier_id=item.dossier_id, trace_id=item.event.trace_id, step=item.to_step
                ):
                    try:
                        async with conn.transaction():
                            await self.apply(conn, item)
                    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
                        raise  # the whole batch retries after reconnecting; nothing is lost
                    except Exception as exc:
                        log.exception("handler failed, dead-lettering")
                        refused.append((record, f"handler failed: {type(exc).__name__}: {exc}"))
            if refused:
                await self.dead_letter(conn, refused)
        self.relay.wake()

    def decode(self, raw: bytes) -> WorkItem:
        event = parse_event(raw)
        problems = []
        if event.type != "handoff.sent":
            problems.append(f"work topics carry handoff.sent, got {event.type}")
        elif event.payload["to"] != self.agency:
            problems.append(f"addressed to {event.payload['to']}, not {self.agency}")
        elif event.payload["to_step"] not in self.handlers:
            problems.append(f"{self.agency} has no step {event.payload['to_step']!r}")
        elif event.chain is None:
            problems.append("handoff without a chain")
        if problems:
            raise ContractError([Problem("$", p) for p in problems])
        return WorkItem.from_event(event)

    async def apply(self, conn: Any, item: WorkItem) -> None:
        fresh = await conn.fetchval(
            f"INSERT INTO {self.schema}.inbox (event_id, dossier_id, type) VALUES ($1, $2, $3) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING true",
            uuid.UUID(item.event.event_id),
            item.dossier_id,
            item.event.type,
        )
        if not fresh:
            self.duplicates += 1
            log.info("duplicate delivery ignored", event_id=item.event.event_id)
            return
        now = self.ctx.clock.now()
        emit = _Emitter(item, self.agency, now)
        emit("handoff.received", {"from": item.event.agency, "sent_event_id": item.event.event_id})
        outcome: Outcome = await self.handlers[item.to_step](conn, item, self.ctx)
        if isinstance(outcome, Absorbed):
            for type_, payload in outcome.events:
                emit(type_, payload)
        else:
            emit("step.started", {})
            if isinstance(outcome, Completed):
                emit("step.completed", {"result": outcome.result})
                routes = item.next
                results = {**item.results, item.to_step: outcome.result}
                extra: dict[str, Any] = {"outcome": "completed"}
            else:
                emit("step.rejected", {"reason": outcome.reason})
                routes = [Route("portal", "result")]
                results = item.results
                extra = {"outcome": "rejected", "reason": outcome.reason}
            chain = self.ctx.chains[item.event.chain or ""]
            for route in routes:
                following = [] if route.agency == "portal" else chain.next_routes(route.step, item.procedures)
                emit.handoff(route, item.dossier, results, following, extra)
        await outbox.add(conn, self.schema, emit.rows(self.prefix))
        self.processed += 1

    async def dead_letter(self, conn: Any, refused: list[tuple[ConsumerRecord[Any, Any], str]]) -> None:
        for record, reason in refused:
            log.warning("message refused", topic=record.topic, offset=record.offset, reason=reason)
            body = {
                "agency": self.agency,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "key": record.key.decode(errors="replace") if record.key else None,
                "value": record.value.decode(errors="replace") if record.value else None,
                "reason": reason,
            }
            await conn.execute(
                f"INSERT INTO {self.schema}.outbox (event_id, dossier_id, topic, key, value) "
                "VALUES ($1, NULL, $2, $3, $4)",
                uuid.uuid4(),
                topics.dead_letter(self.prefix),
                record.key,
                json.dumps(body, ensure_ascii=False).encode(),
            )
        self.dead_lettered += len(refused)


class _Emitter:
    """Collects the events one work item produces, stamped with the same sim time."""

    def __init__(self, item: WorkItem, agency: str, now: datetime) -> None:
        self.item = item
        self.agency = agency
        self.now = now
        self.lifecycle: list[Event] = []
        self.work: list[tuple[str, Event]] = []

    def __call__(self, type_: str, payload: dict[str, Any]) -> Event:
        e = new_event(
            type_,
            self.agency,
            self.now,
            dossier_id=self.item.dossier_id,
            chain=self.item.event.chain,
            step=self.item.to_step,
            payload=payload,
            trace_id=self.item.event.trace_id,
        )
        self.lifecycle.append(e)
        return e

    def handoff(
        self,
        route: Route,
        dossier: dict[str, Any],
        results: dict[str, Any],
        following: list[Route],
        extra: dict[str, Any],
    ) -> None:
        payload = {
            "to": route.agency,
            "to_step": route.step,
            "dossier": dossier,
            "results": results,
            "next": [r.as_dict() for r in following],
            **extra,
        }
        e = self("handoff.sent", payload)
        self.lifecycle[-1] = e.for_lifecycle()
        self.work.append((route.agency, e))

    def rows(self, prefix: str) -> list[tuple[str, Event]]:
        events = topics.dossier_events(prefix)
        return [(events, e) for e in self.lifecycle] + [(topics.work(a, prefix), e) for a, e in self.work]
