"""The loop every agency shares: receive handoffs, do the work in sim time, hand the dossier on.

Receive (the loop itself is runtime/consume.py), per batch: decode and validate each message
(refused ones go to the dead-letter topic with the reason); then, in one transaction, admit the
event ids to the inbox (runtime/inbox.py: a duplicate is a no-op) and either run the step at once
or, for a step with office work (`work_hours` in the chain data), write a task with its planned
milestones. When a handler fails, the batch is applied again one message per savepoint and the
culprit is dead-lettered. Offsets are committed only after the transaction commits.

Work: a second loop (runtime/tasks.py) takes the tasks whose next milestone is due on the sim
clock; finishing a step (runtime/steps.py) runs the agency's handler and queues the lifecycle
events and the next handoffs in the outbox (runtime/outbox.py, published by runtime/relay.py), in
one transaction. Admin commands (runtime/commands.py) act on the agency's own outbox.

Inbox, outbox and task store are ports: `tests/unit/services/runtime/test_agency_with_fakes.py`
runs this class on their memory adapters, `tests/integration/test_stores.py` holds both adapters
of each to one contract.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer

from contracts import topics
from contracts.calendar import WorkingCalendar
from contracts.chains import Chain, Step
from contracts.clock import SimClock
from contracts.commands import SIGNATURE_HEADER, Done, Replay, parse_command, signed
from contracts.envelope import Event, parse_event
from contracts.errors import ContractError, Problem
from contracts.event_types import HANDOFF_RECEIVED, HANDOFF_SENT
from contracts.payloads import handoff_sent
from runtime import commands, outbox
from runtime.commands import is_command
from runtime.conn import Conn
from runtime.consume import ConsumeLoop
from runtime.db import DB_LOST
from runtime.deadletters import DeadLetterStore, PgDeadLetters, Refusal
from runtime.emitter import Emitter, bound
from runtime.inbox import Entry, Inbox, PgInbox
from runtime.kafka import Assignments, consumer, is_primer
from runtime.officers import OfficerStore, PgOfficerStore
from runtime.outbox import OutboxRow, split
from runtime.planning import Planner, Received
from runtime.population import BY_RULE, Population
from runtime.progress import EndOffsets
from runtime.refusals import dead_letter
from runtime.relay import OutboxRelay
from runtime.simulation import PRODUCTION, Evidence, Simulation
from runtime.staffing import NO_STAFFING, Staffing
from runtime.stamping import Stamper
from runtime.steps import finish
from runtime.tasks import TaskRunner
from runtime.taskstore import PgTaskStore, TaskStore
from runtime.work import Deferred, Handler, StepContext, WorkItem

log = structlog.get_logger()


def header(record: Any, name: str) -> bytes | None:
    return next((v for k, v in record.headers or () if k == name), None)


class AgencyWorker:
    def __init__(  # noqa: PLR0913 (the agency's ports, keyword-only: its composition root builds it)
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
        inbox: Inbox | None = None,
        dead_letters: DeadLetterStore | None = None,
        command_token: str | None = None,
        staffing: Staffing = NO_STAFFING,
        officer_store: OfficerStore | None = None,
        population: Population = BY_RULE,
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
        self.ctx = StepContext(
            agency, clock, chains, random.Random(seed), clock.now(), dict(params or {}), seed, population
        )
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.assigned = False
        self.assignments = Assignments()
        self.loop: ConsumeLoop | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.ends = EndOffsets(bootstrap, f"{agency}-ends")
        self.topic = topics.work(agency, prefix)
        self.task_store = task_store or PgTaskStore(agency)
        self.inbox = inbox or PgInbox(agency)
        self.outbox = relay.store
        self.kept = dead_letters or PgDeadLetters(agency)
        self.command_token = command_token
        self.planner = Planner(
            agency,
            self.ctx,
            self.calendar,
            simulation,
            staffing,
            officer_store or PgOfficerStore(agency),
            self.task_store,
        )
        """When set, an admin command must carry its signature under this token (runtime/secrets.py)."""
        self.tasks = TaskRunner(
            agency,
            pool,
            relay,
            clock,
            self.stamp,
            prefix,
            batch_size,
            self.finish,
            self.task_store,
            self.kept,
            simulation,
        )

    @property
    def schema(self) -> str:
        return self.agency

    # -- receiving ------------------------------------------------------------------------

    async def run(self) -> None:
        c = consumer(self.bootstrap, [self.topic], f"{self.prefix}.{self.agency}", self.agency, self.assignments)
        await c.start()
        self.consumer = c
        loop = self.loop = ConsumeLoop(c, self, self.batch_size)
        try:
            while True:
                await loop.once()
                # Ready once the group gave this member its share, which a replica may find empty.
                self.assigned = self.assignments.at is not None
        finally:
            await c.stop()
            await self.ends.stop()

    def is_command(self, record: Any) -> bool:
        return is_command(record)

    async def obey(self, records: Sequence[Any]) -> None:
        """Carry out the admin commands of a batch (runtime/commands.py); a command that breaks
        the contract or names another agency goes to the dead-letter topic."""
        if not records:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            refused: list[Refusal] = []
            for r in records:
                origin = Refusal(r.topic, r.partition, r.offset, r.key, r.value, "")
                if self.command_token and not signed(self.command_token, r.value, header(r, SIGNATURE_HEADER)):
                    refused.append(replace(origin, reason="admin command: not signed with the operator token"))
                    continue
                try:
                    command = parse_command(r.value)
                except ContractError as exc:
                    refused.append(replace(origin, reason=f"admin command: {exc}"))
                    continue
                if command.agency != self.agency:
                    refused.append(replace(origin, reason=f"admin command for {command.agency}, not {self.agency}"))
                    continue
                if isinstance(command, Replay):
                    done = await self.replay(conn, command)
                else:
                    done = await commands.republish(conn, self.outbox, command, self.prefix)
                await commands.answer(conn, self.outbox, done, self.prefix)
                log.info("admin command carried out", command_id=command.command_id, queued=done.queued)
            if refused:
                await dead_letter(conn, self.outbox, self.kept, self.agency, self.prefix, refused)
        self.dead_lettered += len(refused)
        self.relay.wake()

    async def replay(self, conn: Conn, command: Replay) -> Done:
        """Apply again the dead letters the command names, from the originals this agency kept:
        a handoff goes through the receive path (the inbox still drops one applied meanwhile), a
        failed step gets its task back. Each letter once: asked again, it is skipped. One still
        refused becomes a new letter with its new reason."""
        taken = await self.kept.take(conn, list(command.letters))
        again: list[Refusal] = []
        for k in taken.fresh:
            if k.task is not None:
                await self.task_store.add(conn, [k.task])
                continue
            origin = Refusal(k.topic, k.partition, k.offset, k.key, k.value, "")
            try:
                item = self.decode(k.value or b"")
                async with conn.transaction():
                    applied, duplicates = await self.receive_many(conn, [(k.value or b"", item)])
            except ContractError as exc:
                again.append(replace(origin, reason=str(exc)))
                continue
            except DB_LOST:
                raise
            except Exception as exc:
                again.append(replace(origin, reason=f"handler failed: {type(exc).__name__}: {exc}"))
                continue
            self.processed += applied
            self.duplicates += duplicates
        if again:
            await dead_letter(conn, self.outbox, self.kept, self.agency, self.prefix, again)
            self.dead_lettered += len(again)
        log.info(
            "dead letters replayed", replayed=len(taken.fresh), refused_again=len(again), skipped=len(taken.skipped)
        )
        return Done(
            command_id=command.command_id,
            agency=self.agency,
            queued=len(taken.fresh),
            missing=tuple(taken.missing),
            skipped=tuple(taken.skipped),
        )

    def closed_since(self) -> datetime | None:
        """When the injected outage that keeps the agency from working now began (no heartbeat)."""
        return self.sim.closed_since(self.agency, self.clock.now())

    def arrived_before(self, batches: dict[Any, list[Any]], opens: datetime) -> tuple[list[Any], dict[Any, int]]:
        return self.sim.arrived_before(self.agency, batches, opens, self._handoff_of)

    @staticmethod
    def _handoff_of(record: Any) -> Event | None:
        """A work message's handoff; None for a command or a message that does not parse
        (refused with its reason when processed)."""
        if is_command(record) or is_primer(record.headers):
            return None
        try:
            return parse_event(record.value)
        except (ContractError, ValueError):
            return None

    async def process(self, records: Sequence[Any]) -> None:
        """Apply a batch of consumer records (handoffs); a message that breaks the contract goes
        to the dead-letter topic with where it came from and why."""
        await self.apply([(r.value, Refusal(r.topic, r.partition, r.offset, r.key, r.value, "")) for r in records])

    async def apply(self, messages: list[tuple[bytes, Refusal]]) -> None:
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
                        await dead_letter(conn, self.outbox, self.kept, self.agency, self.prefix, refused)
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
                        await dead_letter(conn, self.outbox, self.kept, self.agency, self.prefix, refused)
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

    async def receive_many(self, conn: Conn, items: list[tuple[bytes, WorkItem]]) -> tuple[int, int]:
        """Record the handoffs in the inbox and start their steps; returns (applied, duplicates)."""
        if not items:
            return 0, 0
        fresh_ids = await self.inbox.admit(
            conn, [Entry(i.event.event_id, i.dossier_id, i.event.type) for _, i in items]
        )
        rows: list[OutboxRow] = []
        hits: list[Evidence] = []
        work: list[Received] = []
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
                work.append((raw, item, step, received))
            rows += emit.rows
            hits += emit.hits
        tasks, planned_hits = await self.planner.plan(conn, work)
        hits += planned_hits
        await self.task_store.add(conn, tasks)
        if tasks:
            self.tasks.expect(min(t.next_at for t in tasks))
        await outbox.add(self.outbox, conn, *split(rows))
        await self.sim.record(conn, hits)
        return applied, len(items) - applied

    async def finish(self, conn: Conn, item: WorkItem, emit: Emitter, *, with_start: bool) -> Deferred | None:
        return await finish(conn, item, emit, self.handlers[item.to_step], self.ctx, with_start=with_start)

    async def run_tasks(self) -> None:
        await self.tasks.run()

    @property
    def backlog(self) -> int:
        """Messages not yet read and tasks due beyond one batch: how far behind this agency is now,
        before any of it shows as a late stamp."""
        return (sum(self.loop.backlog.values()) if self.loop else 0) + self.tasks.behind

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
