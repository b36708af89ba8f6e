"""`lienthong conformance AGENCY`: drive dossiers through an agency's own system while it stands
in for the simulator, then judge what came back (simulation/conformance/judge.py).

The check, on a running stack whose AGENCY is external (`lienthong up --external AGENCY`):
1. notes where every topic ends, so only what happens from now on is judged;
2. waits for the system's first heartbeat (bounded; a silent system still gets a verdict);
3. submits valid dossiers of every chain that passes through AGENCY at the portal;
4. delivers the first work message AGENCY took a second time (idempotence);
5. waits until the dossiers are closed or the time is up, saying what it waits for;
6. asks AGENCY to republish one dossier's messages, as a redrive does;
7. reads everything written meanwhile and judges it, rule by rule.
Every wait is bounded. The sim clock runs for the check if a run had stopped it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import topics
from contracts.chains import Chain
from contracts.commands import Republish
from contracts.envelope import Event, parse_event
from contracts.errors import ContractError
from contracts.event_types import AGENCY_HEARTBEAT, HANDOFF_RECEIVED
from runtime import kafkaaccess
from runtime.ask import ask
from runtime.kafka import AIOKafkaPublisher
from runtime.secrets import operator_token, submitter_headers
from runtime.settings import Settings
from simulation.conformance.judge import Probe, Record, Scene, Verdict, judge
from simulation.workload.citizens import CitizenFactory

FIRST_BEAT_S = 60.0
"""Real seconds to wait for the system's first heartbeat (time to start it) before driving dossiers anyway."""
ANSWER_S = 15.0
"""Real seconds the system has to answer the republish command (at most the check's --timeout)."""
MIN_WINDOW_S = 6.0
"""The check lasts at least this long, so that heartbeats are judged over several beats."""
PROVINCE = "042"
GRACE_S = 1.0
"""Real seconds after the check's end for its last messages to reach the broker."""


@dataclass(frozen=True)
class Plan:
    agency: str
    dossiers: int = 12
    timeout_s: float = 120.0
    attach_s: float = FIRST_BEAT_S
    province: str = PROVINCE
    mix: tuple[tuple[str, int], ...] = ()
    """Chain volumes to draw the dossiers' chains in proportion to (a profile's); none: in turn."""
    seed: int | None = None
    """Of the citizens drawn; None: a new one each check (a kept stack refuses a dossier submitted twice)."""
    fresh: bool = True
    """The system under test starts for this check (False: a kept stack, already attached)."""


def chains_through(agency: str, chains: dict[str, Chain]) -> list[str]:
    """The chains one of whose steps `agency` runs (every one for the one-stop office)."""
    return sorted(name for name, c in chains.items() if any(s.agency == agency for s in c.steps))


def chain_order(chains: list[str], n: int, mix: dict[str, int]) -> list[str]:
    """The chains of `n` dossiers, spread evenly: in proportion to `mix` among `chains` (every
    chain at least once while `n` allows), else in turn. Pure."""
    weights = {c: mix.get(c, 0) for c in chains} if mix else dict.fromkeys(chains, 1)
    weights = {c: w for c, w in weights.items() if w > 0} or dict.fromkeys(chains, 1)
    total = sum(weights.values())
    counts = {c: max(1, int(n * w / total)) if n >= len(weights) else int(n * w / total) for c, w in weights.items()}
    for c in sorted(weights, key=lambda c: -(n * weights[c] / total - int(n * weights[c] / total))):
        if sum(counts.values()) >= n:
            break
        counts[c] += 1
    while sum(counts.values()) > n:
        counts[max(counts, key=lambda c: counts[c])] -= 1
    slots = sorted(((k + 0.5) / counts[c], c) for c in counts for k in range(counts[c]))
    return [c for _, c in slots]


def dossiers(chains: list[str], factory: CitizenFactory, today: Any) -> list[dict[str, Any]]:
    """A valid dossier for each chain of `chains`."""
    make: dict[str, Callable[[Any], dict[str, Any]]] = {
        "birth": factory.birth_dossier,
        "death": factory.death_dossier,
        "lltp": factory.lltp_dossier,
        "marriage": factory.marriage_dossier,
    }
    return [make[c](today) for c in chains]


async def check(settings: Settings, plan: Plan, tell: Callable[[str], None]) -> tuple[list[Verdict], dict[str, Any]]:
    """Run the check against the stack of `settings`; the verdicts and what was done."""
    begun = time.monotonic()

    def say(text: str) -> None:
        tell(f"{time.monotonic() - begun:5.1f} s · {text}")

    chains = settings.chains()
    through = chains_through(plan.agency, chains)
    if plan.agency == "portal" or not through:
        raise ValueError(f"{plan.agency} runs no step of a chain that conformance can drive (it submits at the portal)")
    bootstrap, _ = settings.require_infra()
    prefix = settings.topic_prefix
    answer_s = min(ANSWER_S, plan.timeout_s)
    events, work = topics.dossier_events(prefix), topics.work(plan.agency, prefix)
    watched = [events, *(topics.work(a, prefix) for a in topics.AGENCIES)]
    clock = settings.clock()
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        client_id="lienthong-conformance",
        **kafkaaccess.options(),
    )
    await reader.start()
    try:
        await reader.topics()
        parts = {t: sorted(reader.partitions_for_topic(t) or ()) for t in watched}
        missing = [t for t, p in parts.items() if not p]
        if missing:
            raise RuntimeError(
                f"the stack has no topic {', '.join(missing)} (is it up? `lienthong up --external {plan.agency}`)"
            )
        owned = [TopicPartition(t, p) for t, ps in parts.items() for p in ps]
        reader.assign(owned)
        # Read on from the ends the broker lists, and judge what was published since the check
        # started (by the broker's timestamps). The listed ends are only a place to start: the
        # embedded broker's ListOffsets answers trailed the log by several messages when
        # measured, so a few older messages are read again and left out by their timestamps.
        started = time.time()
        # In a fresh check the topics are new: the event topic from offset 0 holds the system's
        # first heartbeats too, whose `seq` must count from 0 (rule "heartbeat"). Offset 0 is
        # named, not asked for: the embedded broker's offset answers are the doubtful part.
        for tp, offset in (await reader.end_offsets(owned)).items():
            reader.seek(tp, 0 if plan.fresh and tp.topic == events else offset)
        tail = Tail(reader)
        tailing = asyncio.create_task(tail.run())
        try:
            say(f"waiting up to {plan.attach_s:g} s for {plan.agency}'s first agency.heartbeat on {events}")
            beat = await tail.first(
                lambda r, e: r.published >= started and e.type == AGENCY_HEARTBEAT and e.agency == plan.agency,
                plan.attach_s,
            )
            say(f"first heartbeat {'after %.1f s' % (beat.published - started) if beat else 'never came'}")
            factory = CitizenFactory(
                plan.province, seed=plan.seed if plan.seed is not None else uuid.uuid4().int % 2**31
            )
            docs = dossiers(chain_order(through, plan.dossiers, dict(plan.mix)), factory, clock.now().date())
            ids = await _submit(settings, docs)
            say(f"submitted {len(ids)} dossiers ({', '.join(through)}) at {settings.portal_url}")
            duplicate = await _deliver_twice(tail, work, plan.agency, set(ids), bootstrap, min(60.0, plan.timeout_s))
            say(
                "delivered one work message twice"
                if duplicate
                else f"no work message reached {plan.agency} to deliver twice"
            )
            open_ids = await _wait_closed(settings, ids, started + plan.timeout_s, say)
            target = parse_event(duplicate.value).dossier_id if duplicate else (ids[0] if ids else None)
            command = Republish(agency=plan.agency, dossier_id=target) if target else None
            answers = (
                await ask(bootstrap, prefix, [command], settings.partitions, answer_s, token=operator_token(settings))
                if command
                else {}
            )
            say(f"republish of {target}: {'answered' if answers else 'no answer'}")
            await asyncio.sleep(max(0.0, started + MIN_WINDOW_S - time.time()))
            ended = time.time()
            await tail.caught_up(GRACE_S, 60.0)
        finally:
            tailing.cancel()
        records = tail.records
    finally:
        await reader.stop()
    scene = Scene(
        agency=plan.agency,
        events_topic=events,
        work_topic=work,
        partitions={t: len(p) for t, p in parts.items()},
        chains=chains,
        clock=clock,
        bound_s=clock.max_lag_s,
        heartbeat_s=settings.heartbeat_s,
        dossiers=frozenset(ids),
        started=started,
        ended=ended,
        fresh=plan.fresh,
    )
    probe = Probe(
        duplicate=duplicate,
        command_dossier=target,
        answer=next(iter(answers.values()), None),
        answer_wait_s=answer_s,
    )
    done = {
        "agency": plan.agency,
        "chains": through,
        "dossiers": len(ids),
        "unfinished": len(open_ids),
        "messages_read": len(records),
        "elapsed_s": round(ended - started, 1),
    }
    return judge(scene, records, probe), done


class Tail:
    """Every message of the assigned partitions, read on as they come."""

    def __init__(self, reader: AIOKafkaConsumer) -> None:
        self.reader = reader
        self.records: list[Record] = []
        self.events: list[tuple[Record, Event]] = []
        self.next_offset: dict[TopicPartition, int] = {}

    async def run(self) -> None:
        while True:
            batches = await self.reader.getmany(timeout_ms=300)
            for tp, rs in batches.items():
                if rs:
                    self.next_offset[tp] = rs[-1].offset + 1
                for r in rs:
                    record = _record(r)
                    self.records.append(record)
                    if not record.primer and not record.command:
                        with contextlib.suppress(ContractError):
                            self.events.append((record, parse_event(record.value)))

    async def first(self, found: Callable[[Record, Event], bool], wait_s: float) -> Record | None:
        """The first message read (now or within `wait_s`) for which `found` holds."""
        until = time.monotonic() + wait_s
        seen = 0
        while True:
            for r, e in self.events[seen:]:
                if found(r, e):
                    return r
            seen = len(self.events)
            if time.monotonic() >= until:
                return None
            await asyncio.sleep(0.1)

    async def caught_up(self, grace_s: float, at_most_s: float) -> None:
        """Until every partition is read up to the high watermark its fetches reported `grace_s`
        from now (at most `at_most_s`): the other agencies' heartbeats never let the topics fall
        quiet, so neither an idle spell nor the moving end can tell when to stop."""
        await asyncio.sleep(grace_s)
        targets = {tp: high for tp in self.reader.assignment() if (high := self.reader.highwater(tp)) is not None}
        until = time.monotonic() + at_most_s
        while True:
            if all(self.next_offset.get(tp, high) >= high for tp, high in targets.items()):
                return
            if time.monotonic() >= until:
                return
            await asyncio.sleep(0.1)


def _record(r: Any) -> Record:
    return Record(r.topic, r.partition, r.offset, r.timestamp, r.key, r.value or b"", tuple(r.headers or ()))


async def _deliver_twice(
    tail: Tail, work: str, agency: str, ids: set[str], bootstrap: str, wait_s: float
) -> Record | None:
    """Once AGENCY acknowledged receiving one of the dossiers, send that work message again,
    byte for byte."""
    receipt = await tail.first(
        lambda _r, e: e.type == HANDOFF_RECEIVED and e.agency == agency and e.dossier_id in ids, wait_s
    )
    if receipt is None:
        return None
    sent_id = str(parse_event(receipt.value).payload.get("sent_event_id"))
    original = await tail.first(lambda r, e: r.topic == work and e.event_id == sent_id, wait_s)
    if original is None:
        return None
    publisher = AIOKafkaPublisher(bootstrap, client_id="lienthong-conformance")
    await publisher.start()
    try:
        await publisher.publish(work, original.key, original.value)
    finally:
        await publisher.stop()
    return original


async def _submit(settings: Settings, docs: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for doc in docs:
            async with http.post(
                f"{settings.portal_url}/api/v1/dossiers",
                json=doc,
                headers={"Idempotency-Key": uuid.uuid4().hex, **submitter_headers(settings)},
            ) as r:
                body = await r.json(content_type=None)
                if r.status not in (200, 202):
                    raise RuntimeError(f"the portal refused a conformance dossier ({r.status}): {body}")
                ids.append(body["dossier_id"])
    return ids


async def _wait_closed(settings: Settings, ids: list[str], until: float, say: Callable[[str], None]) -> list[str]:
    """The dossiers still open when they all closed or the time ran out."""
    open_ids = list(ids)
    last_said = 0.0
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=10), headers=submitter_headers(settings)
    ) as http:
        while open_ids and time.time() < until:
            still = []
            for i in open_ids:
                async with http.get(f"{settings.portal_url}/api/v1/dossiers/{i}") as r:
                    body = await r.json(content_type=None)
                    if r.status != 200 or body.get("status") == "in_progress":
                        still.append(i)
            open_ids = still
            if open_ids and time.monotonic() - last_said > 10:
                last_said = time.monotonic()
                say(f"waiting for {len(open_ids)} of {len(ids)} dossiers to close ({until - time.time():.0f} s left)")
            if open_ids:
                await asyncio.sleep(0.5)
    return open_ids
