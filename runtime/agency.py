"""The loop every agency shares: receive handoffs, do the work in sim time, hand the dossier on.

Receive, per batch: decode and validate each message (refused ones go to the dead-letter topic
with the reason); then, in one transaction with a savepoint per message, record the event id in
the inbox (a duplicate is a no-op) and either run the step at once or, for a step with office
work (`work_hours` in the chain data), write a task with its planned milestones. Offsets are
committed only after the transaction commits.

Work: a second loop (runtime/tasks.py) takes the tasks whose next milestone is due on
the sim clock; finishing a step (runtime/steps.py) runs the agency's handler and queues
the lifecycle events and the next handoffs in the outbox (runtime/emitter.py), in one
transaction. Refused messages: runtime/refusals.py.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from contracts import topics
from contracts.calendar import WorkingCalendar
from contracts.chains import Chain, Step
from contracts.clock import SimClock
from contracts.commands import parse_command
from contracts.envelope import parse_event
from contracts.errors import ContractError, Problem
from contracts.event_types import HANDOFF_RECEIVED, HANDOFF_SENT
from contracts.payloads import handoff_sent
from runtime import commands, outbox
from runtime.commands import is_command
from runtime.db import DB_LOST, DB_RETRY_S
from runtime.emitter import Emitter, bound
from runtime.kafka import Assignments, commit, consumer, is_primer
from runtime.metrics import CONSUMER_LAG
from runtime.outage import before_outage
from runtime.outbox import OutboxRelay, Row, split
from runtime.refusals import Refusal, dead_letter
from runtime.schedule import plan_work
from runtime.simulation import PRODUCTION, Evidence, Simulation
from runtime.stamping import Stamper
from runtime.steps import finish
from runtime.tasks import TaskRunner
from runtime.taskstore import PgTaskStore, Task, TaskStore
from runtime.work import Handler, StepContext, WorkItem

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
        params: Mapping[str, str] | None = None,
        simulation: Simulation = PRODUCTION,
        task_store: TaskStore | None = None,
    ) -> None:
        self.agency = agency
        self.sim = simulation
        self.handlers = handlers
        self.pool = pool
        self.relay = relay
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.batch_size = batch_size
        self.clock = clock
        self.stamp = Stamper(clock, agency)
        self.calendar = WorkingCalendar()
        self.ctx = StepContext(agency, clock, chains, random.Random(seed), clock.now(), dict(params or {}), seed)
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.assigned = False
        self.assignments = Assignments()
        self.task_store = task_store or PgTaskStore(agency)
        self.tasks = TaskRunner(
            agency, pool, relay, clock, self.stamp, prefix, batch_size, self.finish, self.task_store, simulation
        )

    @property
    def schema(self) -> str:
        return self.agency

    # -- receiving ------------------------------------------------------------------------

    async def run(self) -> None:
        topic = topics.work(self.agency, self.prefix)
        c = consumer(self.bootstrap, [topic], f"{self.prefix}.{self.agency}", self.agency, self.assignments)
        await c.start()
        held: set[Any] = set()
        try:
            while True:
                opens = self.sim.closed_since(self.agency, self.clock.now())
                if opens is None and held:
                    c.resume(*held)
                    held.clear()
                # In an outage, a short poll: the outage's end is seen at once, not after a wait.
                batches = await c.getmany(timeout_ms=500 if opens is None else 50, max_records=self.batch_size)
                # Ready once the group gave this member its share, which a replica may find empty.
                self.assigned = self.assignments.at is not None
                if opens is not None:
                    # What reached the agency before the outage is taken in; the rest waits for its end.
                    kept, stop = before_outage(batches, opens, self.model_received_at)
                    for tp, offset in stop.items():
                        c.seek(tp, offset)
                        c.pause(tp)
                        held.add(tp)
                    taken = {id(r) for r in kept}
                    batches = {tp: [r for r in rs if id(r) in taken] for tp, rs in batches.items()}
                    if not kept:
                        await asyncio.sleep(0.05)
                records = [r for rs in batches.values() for r in rs if not is_primer(r.headers)]
                if not records:
                    continue
                try:
                    await self.process(
                        [
                            (r.value, Refusal(r.topic, r.partition, r.offset, r.key, r.value, ""))
                            for r in records
                            if not is_command(r)
                        ]
                    )
                    await self.obey([r for r in records if is_command(r)])
                except DB_LOST as exc:
                    # Nothing of the batch was committed: read it again from the last commit,
                    # rather than end the process and wait for the group to take it back.
                    log.warning("database connection lost; the batch is read again", error=str(exc))
                    await asyncio.sleep(DB_RETRY_S)
                    for tp, rs in batches.items():
                        if rs:
                            c.seek(tp, rs[0].offset)
                    continue
                await commit(c)
                for tp, rs in batches.items():
                    if rs:
                        lag = (c.highwater(tp) or 0) - rs[-1].offset - 1
                        CONSUMER_LAG.labels(self.agency, tp.topic, str(tp.partition)).set(max(0, lag))
        finally:
            await c.stop()

    async def obey(self, records: list[Any]) -> None:
        """Carry out the admin commands of a batch (runtime/commands.py); a command that breaks
        the contract or names another agency goes to the dead-letter topic."""
        if not records:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            refused: list[Refusal] = []
            for r in records:
                origin = Refusal(r.topic, r.partition, r.offset, r.key, r.value, "")
                try:
                    command = parse_command(r.value)
                except ContractError as exc:
                    refused.append(replace(origin, reason=f"admin command: {exc}"))
                    continue
                if command.agency != self.agency:
                    refused.append(replace(origin, reason=f"admin command for {command.agency}, not {self.agency}"))
                    continue
                done = await commands.republish(conn, self.schema, command, self.prefix)
                await commands.answer(conn, self.schema, done, self.prefix)
                log.info("admin command carried out", command_id=command.command_id, queued=done.queued)
            if refused:
                await dead_letter(conn, self.schema, self.agency, self.prefix, refused)
        self.dead_lettered += len(refused)
        self.relay.wake()

    def closed_since(self) -> datetime | None:
        """When the injected outage that keeps the agency from working now began (no heartbeat)."""
        return self.sim.closed_since(self.agency, self.clock.now())

    def model_received_at(self, record: Any) -> datetime | None:
        """When a work message reached the agency in the model; None for a command or a message
        that does not parse (refused with its reason when processed)."""
        if is_command(record) or is_primer(record.headers):
            return None
        try:
            return self.sim.received_at(self.agency, parse_event(record.value))
        except (ContractError, ValueError):
            return None

    async def process(self, messages: list[tuple[bytes, Refusal]]) -> None:
        """Apply a batch of raw handoffs; `Refusal` carries where each came from."""
        items: list[tuple[bytes, Refusal, WorkItem]] = []
        refused: list[Refusal] = []
        for raw, origin in messages:
            try:
                items.append((raw, origin, self.decode(raw)))
            except ContractError as exc:
                refused.append(replace(origin, reason=str(exc)))
        async with self.pool.acquire() as conn:
            try:
                # Fast path: the whole batch in one transaction, a few statements in all.
                async with conn.transaction():
                    counts = await self.receive_many(conn, [(raw, item) for raw, _, item in items])
                    if refused:
                        await dead_letter(conn, self.schema, self.agency, self.prefix, refused)
            except DB_LOST:
                raise
            except Exception:
                # Some handler failed: again, one message per savepoint, dead-lettering the culprits.
                log.warning("batch failed, applying its messages one by one")
                counts = (0, 0)
                async with conn.transaction():
                    for raw, origin, item in items:
                        with bound(item):
                            try:
                                async with conn.transaction():
                                    one = await self.receive_many(conn, [(raw, item)])
                                counts = (counts[0] + one[0], counts[1] + one[1])
                            except DB_LOST:
                                raise
                            except Exception as exc:
                                log.exception("handler failed, dead-lettering")
                                refused.append(replace(origin, reason=f"handler failed: {type(exc).__name__}: {exc}"))
                    if refused:
                        await dead_letter(conn, self.schema, self.agency, self.prefix, refused)
        self.processed += counts[0]
        self.duplicates += counts[1]
        self.dead_lettered += len(refused)
        self.relay.wake()

    def decode(self, raw: bytes) -> WorkItem:
        event = parse_event(raw)
        problems = []
        if event.type != HANDOFF_SENT:
            problems.append(f"work topics carry handoff.sent, got {event.type}")
        elif handoff_sent(event)["to"] != self.agency:
            problems.append(f"addressed to {handoff_sent(event)['to']}, not {self.agency}")
        elif handoff_sent(event)["to_step"] not in self.handlers:
            problems.append(f"{self.agency} has no step {handoff_sent(event)['to_step']!r}")
        elif event.chain is None:
            problems.append("handoff without a chain")
        if problems:
            raise ContractError([Problem("$", p) for p in problems])
        return WorkItem.from_event(event)

    async def receive_many(self, conn: Any, items: list[tuple[bytes, WorkItem]]) -> tuple[int, int]:
        """Record the handoffs in the inbox and start their steps; returns (applied, duplicates)."""
        if not items:
            return 0, 0
        fresh_ids = {
            str(r["event_id"])
            for r in await conn.fetch(
                f"INSERT INTO {self.schema}.inbox (event_id, dossier_id, type) "
                "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT (event_id) DO NOTHING "
                "RETURNING event_id",
                [uuid.UUID(i.event.event_id) for _, i in items],
                [i.dossier_id for _, i in items],
                [i.event.type for _, i in items],
            )
        }
        rows: list[Row] = []
        hits: list[Evidence] = []
        tasks: list[Task] = []
        applied = 0
        for raw, item in items:
            if item.event.event_id not in fresh_ids:
                log.info("duplicate delivery ignored", event_id=item.event.event_id, dossier_id=item.dossier_id)
                continue
            fresh_ids.discard(item.event.event_id)  # the same event twice in one batch counts once
            applied += 1
            received = self.stamp(self.sim.received_at(self.agency, item.event))
            emit = Emitter(item, self.agency, received, self.sim, self.prefix)
            emit(HANDOFF_RECEIVED, {"from": item.event.agency, "sent_event_id": item.event.event_id})
            hits += self.sim.held(self.agency, item.event, received)
            step = self._step(item)
            if step is None or step.work_hours is None:
                with bound(item):
                    await self.finish(conn, item, emit, with_start=True)
            else:
                change = self.sim.step(self.agency, step, item.event, received)
                plan = plan_work(
                    step,
                    received,
                    self.calendar,
                    self.ctx.rng_for(item.dossier_id, item.to_step, "plan"),
                    needs_verification=bool(item.dossier.get("needs_verification")),
                    extra_hours=change.extra_hours if change else 0.0,
                    hold=change.hold if change else None,
                )
                if change:
                    hits += change.evidence(plan)
                tasks.append(
                    Task(
                        event_id=item.event.event_id,
                        dossier_id=item.dossier_id,
                        message=raw,
                        received_at=received,
                        deadline=plan.deadline,
                        plan=tuple((m.kind, m.at) for m in plan.milestones),
                    )
                )
            rows += emit.rows
            hits += emit.hits
        await self.task_store.add(conn, tasks)
        await outbox.add(conn, self.schema, *split(rows))
        await self.sim.record(conn, hits)
        return applied, len(items) - applied

    async def finish(self, conn: Any, item: WorkItem, emit: Emitter, *, with_start: bool) -> None:
        await finish(conn, item, emit, self.handlers[item.to_step], self.ctx, with_start=with_start)

    async def run_tasks(self) -> None:
        await self.tasks.run()

    @property
    def dead_lettered_total(self) -> int:
        """Messages refused on receipt and tasks whose step failed."""
        return self.dead_lettered + self.tasks.dead_lettered

    def _step(self, item: WorkItem) -> Step | None:
        """The chain's definition of the step, or None for a step outside the chain (the portal's result)."""
        chain = self.ctx.chains.get(item.event.chain or "")
        if chain is None:
            return None
        try:
            return chain.step(item.to_step)
        except KeyError:
            return None
