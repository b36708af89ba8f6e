"""The monitor's check for logs the broker lost, against a stand-in for faust's consumer."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from streams.app import Reading, continued, handled, reread_lost_logs
from streams.broker import UNKNOWN, Unknown
from streams.positions import LOOK_AFTER_S, Continuity, Coverage, LogWatch, digest


class TP(NamedTuple):
    topic: str
    partition: int


class ReadingConsumer:
    """Keeps reading while the end offsets are asked for, as the worker does; records seeks."""

    def __init__(self, end: int, read: int, read_meanwhile: int, lost: bool = False) -> None:
        self.tp = TP("lt.dossier-events", 0)
        self.end = end
        self._read_offset = {self.tp: read}
        self.read_meanwhile = read_meanwhile
        self.lost = lost
        self._acked: dict[Any, Any] = {}
        self._acked_index: dict[Any, Any] = {}
        self._gap: dict[Any, Any] = {}
        self._committed_offset: dict[Any, Any] = {}
        self.seeks: list[tuple[Any, int]] = []

    def assignment(self) -> set[Any]:
        return {self.tp}

    async def highwaters(self, *tps: Any) -> dict[Any, int]:
        answered = {self.tp: 3 if self.lost else self.end}
        # The request is out: new messages arrive and the worker reads past the answer's end.
        self.end += self.read_meanwhile
        self._read_offset[self.tp] += self.read_meanwhile
        await asyncio.sleep(0)
        return answered

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))


def reading(watch: LogWatch[Any] | None = None, lost: list[Any] | None = None) -> Reading:
    return Reading(watch or LogWatch(), Coverage(), Continuity(), (lost if lost is not None else []).append)


class App:
    def __init__(self, consumer: ReadingConsumer) -> None:
        self.consumer = consumer


def test_reading_on_while_the_end_is_asked_for_is_not_a_lost_log() -> None:
    consumer = ReadingConsumer(end=7_130, read=7_129, read_meanwhile=9)
    watch: LogWatch[Any] = LogWatch()
    for _ in range(3):
        asyncio.run(reread_lost_logs(App(consumer), reading(watch=watch)))  # type: ignore[arg-type]
    assert consumer.seeks == []


def test_a_log_the_broker_lost_is_read_again_from_its_start() -> None:
    consumer = ReadingConsumer(end=75_694, read=75_693, read_meanwhile=0, lost=True)
    r = reading()
    asyncio.run(reread_lost_logs(App(consumer), r))  # type: ignore[arg-type]
    assert consumer.seeks == [(consumer.tp, 0)]
    assert r.coverage.next == {consumer.tp: 0}  # watched from the start for skips


class Message(NamedTuple):
    tp: TP
    offset: int


class Ev(NamedTuple):
    message: Message
    value: bytes


class Peek:
    """What the broker holds at each offset now (a log replaced under the worker, or not)."""

    def __init__(self, log: dict[int, bytes]) -> None:
        self.log = log
        self.asked: list[int] = []

    async def digest_at(self, topic: str, partition: int, offset: int) -> bytes | Unknown | None:
        self.asked.append(offset)
        if offset not in self.log:
            return None
        return digest(self.log[offset])


def batch(tp: TP, first: int, n: int, tag: bytes) -> list[Ev]:
    return [Ev(Message(tp, o), tag + str(o).encode()) for o in range(first, first + n)]


def test_a_log_replaced_and_grown_past_the_workers_position_is_read_again_from_its_start() -> None:
    """Regression: the embedded broker came back from a crash and its new log had grown past the
    worker's position before the end offsets were asked (LogWatch saw nothing amiss); the worker
    went on from its old position, skipped the new log below it, and the clock marks it read there
    moved the judged time over heartbeats it never read: four agencies reported silent. The first
    batch after a pause is handled only once the broker shows the last message handled still there."""
    consumer = ReadingConsumer(end=40, read=40, read_meanwhile=0)
    tp = consumer.tp
    lost: list[Any] = []
    r = reading(lost=lost)
    old = batch(tp, 0, 40, b"old-")
    handled(r.continuity, old)
    r.continuity.last[tp] = (*r.continuity.last[tp][:2], r.continuity.last[tp][2] - LOOK_AFTER_S)  # a pause
    replaced = Peek({o: b"new-" + str(o).encode() for o in range(60)})
    kept = asyncio.run(continued(App(consumer), r, replaced, batch(tp, 40, 20, b"new-")))  # type: ignore[arg-type]
    assert kept == []
    assert replaced.asked == [39]
    assert consumer.seeks == [(tp, 0)]
    assert lost == [tp]  # the heartbeats it held are pardoned (MonitorCore.log_lost)
    assert r.coverage.next == {tp: 0}
    assert tp not in r.continuity.last


def test_a_batch_that_continues_the_log_after_a_pause_is_handled_as_read() -> None:
    consumer = ReadingConsumer(end=40, read=40, read_meanwhile=0)
    tp = consumer.tp
    r = reading()
    old = batch(tp, 0, 40, b"m-")
    handled(r.continuity, old)
    r.continuity.last[tp] = (*r.continuity.last[tp][:2], r.continuity.last[tp][2] - LOOK_AFTER_S)
    same = Peek({o: b"m-" + str(o).encode() for o in range(60)})
    more = batch(tp, 40, 20, b"m-")
    assert asyncio.run(continued(App(consumer), r, same, more)) == more  # type: ignore[arg-type]
    assert (same.asked, consumer.seeks) == ([39], [])


def test_no_look_without_a_pause_and_none_when_the_broker_does_not_answer() -> None:
    consumer = ReadingConsumer(end=40, read=40, read_meanwhile=0)
    tp = consumer.tp
    r = reading()
    handled(r.continuity, batch(tp, 0, 40, b"m-"))
    replaced = Peek({})
    more = batch(tp, 40, 5, b"x-")
    assert asyncio.run(continued(App(consumer), r, replaced, more)) == more  # type: ignore[arg-type]
    assert replaced.asked == []  # batches following each other closely: no broker round trip

    class Away(Peek):
        async def digest_at(self, topic: str, partition: int, offset: int) -> bytes | Unknown | None:
            self.asked.append(offset)
            return UNKNOWN

    r.continuity.last[tp] = (*r.continuity.last[tp][:2], r.continuity.last[tp][2] - LOOK_AFTER_S)
    away = Away({})
    assert asyncio.run(continued(App(consumer), r, away, more)) == more  # type: ignore[arg-type]
    assert (away.asked, consumer.seeks) == ([39], [])
