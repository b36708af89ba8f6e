"""The monitor's check for logs the broker lost, against a stand-in for faust's consumer."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

from streams.app import reread_lost_logs
from streams.positions import Coverage, LogWatch


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


class App:
    def __init__(self, consumer: ReadingConsumer) -> None:
        self.consumer = consumer


def test_reading_on_while_the_end_is_asked_for_is_not_a_lost_log() -> None:
    consumer = ReadingConsumer(end=7_130, read=7_129, read_meanwhile=9)
    watch: LogWatch[Any] = LogWatch()
    for _ in range(3):
        asyncio.run(reread_lost_logs(App(consumer), watch, Coverage()))  # type: ignore[arg-type]
    assert consumer.seeks == []


def test_a_log_the_broker_lost_is_read_again_from_its_start() -> None:
    consumer = ReadingConsumer(end=75_694, read=75_693, read_meanwhile=0, lost=True)
    coverage: Coverage[Any] = Coverage()
    asyncio.run(reread_lost_logs(App(consumer), LogWatch(), coverage))  # type: ignore[arg-type]
    assert consumer.seeks == [(consumer.tp, 0)]
    assert coverage.next == {consumer.tp: 0}  # watched from the start for skips
