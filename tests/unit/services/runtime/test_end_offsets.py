"""The end offsets an agency's /progress asks of the broker (runtime/progress.py), on a fake reader."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from aiokafka import TopicPartition

from runtime.progress import EndOffsets

TP = TopicPartition("lt.work.btxh", 0)


class Reader:
    """A consumer whose end-offset request hangs while `dead` (its metadata names a dead leader)."""

    made: ClassVar[list[Reader]] = []

    def __init__(self, **_: Any) -> None:
        self.dead = len(Reader.made) == 0
        self.stopped = False
        Reader.made.append(self)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if self.dead:
            await asyncio.sleep(3600)
        return dict.fromkeys(partitions, 42)


async def asked(ends: EndOffsets) -> dict[TopicPartition, int] | None:
    try:
        async with asyncio.timeout(0.05):
            return await ends.of([TP])
    except TimeoutError:
        return None


def test_a_request_cut_off_by_the_timeout_asks_again_on_a_fresh_reader() -> None:
    """Regression: after a Kafka node was killed, an agency's end-offset reader kept asking the
    dead leader; every try was cut off by the proof's timeout before the client refreshed its
    metadata, and sim time stood 285 s ("btxh: no answer from the broker")."""
    Reader.made = []

    async def scenario() -> tuple[dict[TopicPartition, int] | None, dict[TopicPartition, int] | None]:
        ends = EndOffsets("127.0.0.1:9", "btxh-ends", factory=Reader)
        first = await asked(ends)
        second = await asked(ends)
        await asyncio.sleep(0)  # the retired reader's stop runs in the background
        return first, second

    first, second = asyncio.run(scenario())
    assert first is None
    assert second == {TP: 42}
    assert len(Reader.made) == 2
    assert Reader.made[0].stopped


def test_a_healthy_reader_is_kept() -> None:
    Reader.made = [Reader()]  # taken as the dead one: every reader made below answers

    async def scenario() -> list[dict[TopicPartition, int]]:
        ends = EndOffsets("127.0.0.1:9", "hotich-ends", factory=Reader)
        return [await ends.of([TP]) for _ in range(3)]

    assert asyncio.run(scenario()) == [{TP: 42}] * 3
    assert len(Reader.made) == 2  # one reader for the three questions
