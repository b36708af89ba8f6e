"""One agency's receive path, work loop, relay and admin commands, on the platform's memory stores
and a fake pool (no broker, no database): a handoff delivered three times is worked once,
malformed bytes go to the dead-letter topic with the reason, a step whose handler fails is
dead-lettered while the rest of its batch goes on, the relay publishes in queue order, a
republish queues the dossier's handoffs again and answers, and a dead letter is replayed from the
original the agency kept, once however often asked, while the letter on the topic stays masked."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts import topics
from contracts.chains import load_chains
from contracts.clock import VN_TZ, SimClock
from contracts.commands import COMMAND_HEADER, SIGNATURE_HEADER, Done, Replay, Republish, parse_done, sign
from contracts.deadletters import parse_letter
from contracts.envelope import new_event, parse_event
from contracts.event_types import HANDOFF_RECEIVED, HANDOFF_SENT, LINK_ERROR, STEP_COMPLETED, STEP_STARTED, STEP_STATE
from contracts.payloads import link_error
from runtime.agency import AgencyWorker
from runtime.deadletters import MemoryDeadLetters
from runtime.inbox import MemoryInbox
from runtime.officers import MemoryOfficerStore
from runtime.outbox import MemoryOutbox
from runtime.population import Answer, Asked, Known, Person, Unreachable
from runtime.relay import OutboxRelay
from runtime.schedule import STARTED
from runtime.staffing import NO_STAFFING, Desk, Staffing
from runtime.taskstore import MemoryTaskStore
from runtime.verification import verify
from runtime.work import Completed, Handler, Outcome, StepContext, WorkItem
from tests.unit.services.runtime.fakes import FakeConsumer, FakePool

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)
WORK = topics.work("hotich")


class Clock:
    def __init__(self) -> None:
        self.real = 0.0

    def __call__(self) -> float:
        return self.real


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def publish_many(self, messages: list[tuple[str, bytes | None, bytes]]) -> None:
        self.sent += messages


BROKEN = {"D-BAD"}
"""Dossiers the civil-status handler fails on, until the bug is fixed (the set emptied)."""


async def register_birth(_conn: Any, item: WorkItem, _ctx: StepContext) -> Outcome:
    if item.dossier_id in BROKEN:
        raise ValueError("the civil-status register refused the row")
    return Completed({"personal_id": "042024000017"})


def build(
    handlers: Mapping[str, Handler] | None = None, staffing: Staffing = NO_STAFFING
) -> tuple[AgencyWorker, Clock, Publisher]:
    real = Clock()
    clock = SimClock(epoch=T0, anchor=0.0, speed=1.0, max_lag_s=1e9, real_time=real)
    inbox, out, tasks, kept = MemoryInbox(), MemoryOutbox(owner="hotich"), MemoryTaskStore(), MemoryDeadLetters()
    pool = FakePool(inbox, out, tasks, kept)
    publisher = Publisher()
    worker = AgencyWorker(
        agency="hotich",
        handlers=handlers or {"register_birth": register_birth},
        pool=pool,
        relay=OutboxRelay(pool, out, publisher, clock=clock),
        bootstrap="127.0.0.1:1",
        prefix="lt",
        clock=clock,
        chains=load_chains(),
        task_store=tasks,
        inbox=inbox,
        dead_letters=kept,
        staffing=staffing,
        officer_store=MemoryOfficerStore(),
    )
    return worker, real, publisher


def handoff(
    dossier_id: str, child: str = "Lê Văn An", mother_id: str = "042190001234", commune: str | None = None
) -> bytes:
    return new_event(
        HANDOFF_SENT,
        "motcua",
        T0,
        dossier_id=dossier_id,
        chain="birth",
        payload={
            "to": "hotich",
            "to_step": "register_birth",
            "dossier": {
                "procedures": [],
                "child": {"full_name": child},
                "mother": {"personal_id": mother_id},
                **({"area": {"province": "042", "commune": commune}} if commune else {}),
            },
            "results": {},
            "next": [{"agency": "cutru", "step": "register_residence"}, {"agency": "bhxh", "step": "issue_bhyt"}],
        },
    ).to_json()


def queued(worker: AgencyWorker) -> list[tuple[str, str, str | None]]:
    """(topic, event type, dossier) of every message the agency's outbox keeps, in order."""
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    rows = []
    for _, _, topic, _, value in out.kept:
        if topic == topics.dead_letter("lt") or topic == topics.admin_replies("lt"):
            rows.append((topic, "", None))
        else:
            e = parse_event(value)
            rows.append((topic, e.type, e.dossier_id))
    return rows


def deliver(worker: AgencyWorker, *values: bytes) -> None:
    source = FakeConsumer()
    for v in values:
        source.append(WORK, 0, v)
    records = asyncio.run(source.getmany())[next(iter(source.log))]
    asyncio.run(worker.process(records))


def test_a_handoff_delivered_three_times_is_received_and_worked_once() -> None:
    worker, real, _ = build()
    first = handoff("D-1")
    deliver(worker, first, first)
    deliver(worker, first)
    assert (worker.processed, worker.duplicates) == (1, 2)
    assert queued(worker) == [(topics.dossier_events(), HANDOFF_RECEIVED, "D-1")]
    assert len(worker.task_store.tasks) == 1  # type: ignore[attr-defined]

    real.real = timedelta(days=5).total_seconds()
    asyncio.run(worker.tasks.advance_due(worker.clock.now()))
    types = [(t, kind) for t, kind, _ in queued(worker)]
    lifecycle = topics.dossier_events()
    # Started, "chờ ký số", "chờ ban hành", completed: the step's every state once.
    assert types[1:5] == [
        (lifecycle, STEP_STARTED),
        (lifecycle, STEP_STATE),
        (lifecycle, STEP_STATE),
        (lifecycle, STEP_COMPLETED),
    ]
    assert (topics.work("cutru"), HANDOFF_SENT) in types
    assert (topics.work("bhxh"), HANDOFF_SENT) in types
    assert worker.task_store.tasks == {}  # type: ignore[attr-defined]


def test_malformed_bytes_go_to_the_dead_letter_topic_with_the_reason_and_the_rest_is_applied() -> None:
    worker, _, _ = build()
    deliver(worker, b"{not json", handoff("D-2"))
    assert worker.processed == 1
    assert worker.dead_lettered == 1
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    (letter,) = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert (letter.agency, letter.offset, letter.size) == ("hotich", 0, 9)
    assert letter.value is None  # not JSON: no copy of free bytes, which could hold anything
    assert letter.reason.startswith("$: not valid JSON")


def test_a_step_whose_handler_fails_is_dead_lettered_and_the_others_of_its_batch_complete() -> None:
    worker, real, _ = build()
    deliver(worker, handoff("D-OK"), handoff("D-BAD"))
    real.real = timedelta(days=5).total_seconds()
    asyncio.run(worker.tasks.advance_due(worker.clock.now()))
    done = {d for _, kind, d in queued(worker) if kind == STEP_COMPLETED}
    assert done == {"D-OK"}
    assert worker.tasks.dead_lettered == 1
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    (letter,) = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert letter.reason == "step failed: ValueError: the civil-status register refused the row"
    assert worker.task_store.tasks == {}  # type: ignore[attr-defined]
    # On the topic, no personal data; the original, whole, stays with the agency.
    assert letter.value["payload"]["dossier"]["child"]["full_name"] == "L. V. A."
    assert letter.value["payload"]["dossier"]["mother"]["personal_id"] == "042*******34"
    assert b"L\xc3\xaa V\xc4\x83n An" in worker.kept.letters[letter.letter_id].value  # type: ignore[attr-defined]


def test_the_relay_publishes_in_queue_order_and_a_republish_queues_the_dossiers_handoffs_again() -> None:
    worker, real, publisher = build()
    deliver(worker, handoff("D-3"))
    real.real = timedelta(days=5).total_seconds()
    asyncio.run(worker.tasks.advance_due(worker.clock.now()))
    while asyncio.run(worker.relay.publish_once()):
        pass
    assert [(t, parse_event(v).type) for t, _, v in publisher.sent] == [(t, k) for t, k, _ in queued(worker)]
    assert asyncio.run(worker.relay.backlog()) == 0

    command = Republish(agency="hotich", dossier_id="D-3")
    source = FakeConsumer()
    source.append(WORK, 0, command.to_json(), ((COMMAND_HEADER, b"republish"),))
    asyncio.run(worker.obey(asyncio.run(source.getmany())[next(iter(source.log))]))
    published = len(publisher.sent)
    while asyncio.run(worker.relay.publish_once()):
        pass
    again = publisher.sent[published:]
    assert sorted(t for t, _, _ in again[:-1]) == [topics.work("bhxh"), topics.work("cutru")]
    answer = again[-1]
    assert answer[0] == topics.admin_replies()
    assert parse_done(answer[2]).queued == 2


def test_a_bad_admin_command_is_dead_lettered_and_one_for_another_agency_too() -> None:
    worker, _, _ = build()
    source = FakeConsumer()
    source.append(WORK, 0, b'{"command": "republish"}', ((COMMAND_HEADER, b"republish"),))
    source.append(WORK, 0, Republish(agency="cutru", dossier_id="D-9").to_json(), ((COMMAND_HEADER, b"r"),))
    asyncio.run(worker.obey(asyncio.run(source.getmany())[next(iter(source.log))]))
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    reasons = [parse_letter(v).reason for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert len(reasons) == 2
    assert reasons[0].startswith("admin command:")
    assert reasons[1] == "admin command for cutru, not hotich"


def replay(worker: AgencyWorker, *letters: str) -> Done:
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    command = Replay(agency="hotich", letters=letters)
    source = FakeConsumer()
    source.append(WORK, 0, command.to_json(), ((COMMAND_HEADER, b"replay"),))
    asyncio.run(worker.obey(asyncio.run(source.getmany())[next(iter(source.log))]))
    answer = next(v for _, _, t, _, v in reversed(out.kept) if t == topics.admin_replies())
    return parse_done(answer)


def test_a_failed_step_is_replayed_once_after_the_fix_and_a_second_replay_is_skipped() -> None:
    worker, real, _ = build()
    deliver(worker, handoff("D-BAD"))
    real.real = timedelta(days=5).total_seconds()
    asyncio.run(worker.tasks.advance_due(worker.clock.now()))
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    (letter,) = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]

    BROKEN.discard("D-BAD")  # the fix
    try:
        done = replay(worker, letter.letter_id, "00000000-0000-0000-0000-000000000000")
        assert (done.queued, done.skipped, done.missing) == (1, (), ("00000000-0000-0000-0000-000000000000",))
        asyncio.run(worker.tasks.advance_due(worker.clock.now()))
        assert [d for _, kind, d in queued(worker) if kind == STEP_COMPLETED] == ["D-BAD"]
        again = replay(worker, letter.letter_id)
        assert (again.queued, again.skipped) == (0, (letter.letter_id,))
        asyncio.run(worker.tasks.advance_due(worker.clock.now()))
        assert [d for _, kind, d in queued(worker) if kind == STEP_COMPLETED] == ["D-BAD"]  # not twice
    finally:
        BROKEN.add("D-BAD")


def test_a_refused_handoff_replayed_is_refused_again_with_a_new_letter_and_nothing_is_applied_twice() -> None:
    worker, _, _ = build()
    deliver(worker, b"{not json")
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    (first,) = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    done = replay(worker, first.letter_id)
    assert done.queued == 1
    letters = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert len(letters) == 2
    assert letters[1].reason == first.reason
    assert letters[1].letter_id != first.letter_id
    assert worker.processed == 0


def test_a_handoff_refused_for_a_missing_step_is_taken_in_on_replay_once_the_step_exists() -> None:
    worker, _, _ = build(handlers={"other_step": register_birth})
    deliver(worker, handoff("D-4"))
    assert (worker.processed, worker.dead_lettered) == (0, 1)
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    (letter,) = [parse_letter(v) for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert letter.reason == "$: hotich has no step 'register_birth'"
    worker.handlers = {"register_birth": register_birth}  # the fix: a new release with the step
    assert replay(worker, letter.letter_id).queued == 1
    assert worker.processed == 1
    assert (topics.dossier_events(), HANDOFF_RECEIVED, "D-4") in queued(worker)
    assert replay(worker, letter.letter_id).skipped == (letter.letter_id,)
    assert worker.processed == 1


def test_an_agency_with_a_token_acts_only_on_commands_signed_with_it() -> None:
    worker, _, _ = build()
    worker.command_token = "the-operators-token"
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    command = Republish(agency="hotich", dossier_id="D-5").to_json()
    source = FakeConsumer()
    source.append(WORK, 0, command, ((COMMAND_HEADER, b"1"),))
    source.append(WORK, 0, command, ((COMMAND_HEADER, b"1"), (SIGNATURE_HEADER, sign("a-guess", command))))
    source.append(WORK, 0, command, ((COMMAND_HEADER, b"1"), (SIGNATURE_HEADER, sign("the-operators-token", command))))
    asyncio.run(worker.obey(asyncio.run(source.getmany())[next(iter(source.log))]))
    reasons = [parse_letter(v).reason for _, _, t, _, v in out.kept if t == topics.dead_letter()]
    assert reasons == ["admin command: not signed with the operator token"] * 2
    answers = [parse_done(v) for _, _, t, _, v in out.kept if t == topics.admin_replies()]
    assert len(answers) == 1  # the signed one, carried out and answered


def test_one_officer_takes_up_a_batch_in_turn_and_a_desk_whose_service_is_the_work_ends_with_it() -> None:
    """Two birth registrations received together at a commune with one officer, an hour each
    and nothing after: the second starts when the first ends, and each step completes then."""
    hour = (60.0, 60.0, 60.0)
    desk = Desk("birth", "register_birth", "Tư pháp xã", "commune", 1, (time(7, 30), time(17, 0)), hour, {}, True)
    worker, _, _ = build(staffing=Staffing((desk,)))
    deliver(worker, handoff("D-1"), handoff("D-2"))
    plans = sorted((t.plan for t in worker.task_store.tasks.values()), key=lambda p: p[0][1])  # type: ignore[attr-defined]
    starts = [p[0] for p in plans]
    assert starts == [(STARTED, T0), (STARTED, T0 + timedelta(hours=1))]
    assert [p[-1][1] for p in plans] == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]


def test_each_commune_of_a_commune_desk_has_its_own_officer() -> None:
    """Regression: the planner asked the desk for the unit of the whole dossier instead of its area,
    so every commune's dossiers queued behind one officer of a province-wide unit."""
    hour = (60.0, 60.0, 60.0)
    desk = Desk("birth", "register_birth", "Tư pháp xã", "commune", 1, (time(7, 30), time(17, 0)), hour, {}, True)
    worker, _, _ = build(staffing=Staffing((desk,)))
    deliver(worker, handoff("D-1", commune="18073"), handoff("D-2", commune="18076"), handoff("D-3", commune="18073"))
    starts = {t.dossier_id: t.plan[0] for t in worker.task_store.tasks.values()}  # type: ignore[attr-defined]
    assert starts == {
        "D-1": (STARTED, T0),
        "D-2": (STARTED, T0),
        "D-3": (STARTED, T0 + timedelta(hours=1)),
    }


class Database:
    """A population database that answers nothing to questions asked before `back` (sim time)."""

    def __init__(self, back: datetime) -> None:
        self.back, self.asked = back, 0

    async def verify(self, people: list[Person], asked: Asked) -> Answer:
        self.asked += 1
        return Unreachable("connection refused") if asked.at < self.back else Known(asked.at)

    async def record_birth(self, personal_id: str, sex: str, birth_date: str, asked: Asked) -> Answer:
        return Known(asked.at)


async def checked_birth(_conn: Any, item: WorkItem, ctx: StepContext) -> Outcome:
    return await verify(ctx, item, [Person("mother", "042190001234", "female")]) or Completed({"personal_id": "1"})


def test_a_step_whose_identity_check_gets_no_answer_tries_again_in_office_hours_and_says_the_link_failed() -> None:
    worker, real, _ = build({"register_birth": checked_birth})
    database = Database(back=datetime(2024, 3, 4, 16, 59, tzinfo=VN_TZ))  # down until the close
    worker.ctx = replace(worker.ctx, population=database)
    deliver(worker, handoff("D-WAIT"))
    real.real = timedelta(days=5).total_seconds()
    while asyncio.run(worker.tasks.advance_due(worker.clock.now())):
        pass
    (done,) = [e for e in events(worker) if e.type == STEP_COMPLETED]
    failed = [e for e in events(worker) if e.type == LINK_ERROR]
    # Every 20 office minutes from the first try on Monday morning; the office closes at 17:00,
    # so the try that finds it back is on Tuesday morning, twenty office minutes after the last.
    assert len(failed) == database.asked - 1 >= 3
    tries = [e.occurred_at for e in failed] + [done.occurred_at]
    assert all(b - a == timedelta(minutes=20) for a, b in itertools.pairwise(tries[:-1]))
    assert tries[-2].date() == date(2024, 3, 4)
    assert done.occurred_at.date() == date(2024, 3, 5)
    assert time(7, 30) < done.occurred_at.time() <= time(7, 50)
    assert {link_error(e)["to"] for e in failed} == {"dancu"}
    assert worker.task_store.tasks == {}  # type: ignore[attr-defined]


def events(worker: AgencyWorker) -> list[Any]:
    out: MemoryOutbox = worker.outbox  # type: ignore[assignment]
    return [parse_event(v) for _, _, t, _, v in out.kept if t == topics.dossier_events()]
