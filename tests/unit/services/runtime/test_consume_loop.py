"""The receive loop (runtime/consume.py) with a fake consumer and a fake agency: what it commits,
what it reads again after a lost database connection, and what waits out a simulated outage."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.clock import VN_TZ
from contracts.commands import COMMAND_HEADER
from contracts.topics import PRIMER_HEADER
from runtime import consume
from runtime.consume import ConsumeLoop
from simulation.faults.outage import before_outage
from tests.unit.services.runtime.fakes import TP, FakeConsumer, Record

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)
WORK = "lt.work.cutru"


class Agency:
    """Remembers what the loop gave it; `fail` makes the next batches lose the database."""

    agency = "cutru"

    def __init__(self) -> None:
        self.processed: list[bytes] = []
        self.obeyed: list[bytes] = []
        self.calls: list[tuple[str, list[bytes]]] = []
        self.fail = 0
        self.closed: datetime | None = None
        self.received: dict[bytes, datetime] = {}

    def closed_since(self) -> datetime | None:
        return self.closed

    def arrived_before(self, batches: dict[Any, list[Any]], opens: datetime) -> tuple[list[Any], dict[Any, int]]:
        return before_outage(batches, opens, lambda record: self.received.get(record.value))

    def is_command(self, record: Any) -> bool:
        return any(k == COMMAND_HEADER for k, _ in record.headers)

    async def process(self, records: Sequence[Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise asyncpg.PostgresConnectionError("connection was closed in the middle of operation")
        self.processed += [r.value for r in records]
        self.calls.append(("process", [r.value for r in records]))

    async def obey(self, records: Sequence[Any]) -> None:
        self.obeyed += [r.value for r in records]
        self.calls.append(("obey", [r.value for r in records]))


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consume, "DB_RETRY_S", 0.0)


def test_a_batch_is_handled_then_committed_primers_skipped_commands_obeyed() -> None:
    source, agency = FakeConsumer(), Agency()
    source.append(WORK, 0, b"h1")
    source.append(WORK, 0, b"primer", ((PRIMER_HEADER, b"1"),))
    source.append(WORK, 1, b"cmd", ((COMMAND_HEADER, b"republish"),))
    source.append(WORK, 1, b"h2")
    loop = ConsumeLoop(source, agency, batch_size=10)

    assert asyncio.run(loop.once())
    assert agency.processed == [b"h1", b"h2"]
    assert agency.obeyed == [b"cmd"]
    assert source.commits == [{TP(WORK, 0): 2, TP(WORK, 1): 2}]
    assert not asyncio.run(loop.once())  # nothing new: nothing handled, nothing committed
    assert len(source.commits) == 1


def test_a_replay_command_read_before_new_work_is_obeyed_before_it() -> None:
    """Regression: after a broker crash the replay command, sent while the agency was frozen,
    came first on its partition, but the batch's work was handled first; the portal then
    published a dossier's closing before the receipt it published again, and the monitor judged
    the receipt's handoff late by the closing's time."""
    source, agency = FakeConsumer(), Agency()
    source.append(WORK, 0, b"primer", ((PRIMER_HEADER, b"1"),))
    source.append(WORK, 0, b"replay", ((COMMAND_HEADER, b"republish"),))
    source.append(WORK, 0, b"h1")
    source.append(WORK, 0, b"h2")
    loop = ConsumeLoop(source, agency, batch_size=10)

    assert asyncio.run(loop.once())
    assert agency.calls == [("obey", [b"replay"]), ("process", [b"h1", b"h2"])]
    assert source.commits == [{TP(WORK, 0): 4}]


def test_a_batch_whose_database_was_lost_is_read_again_from_its_first_offset_and_not_committed() -> None:
    source, agency = FakeConsumer(), Agency()
    for i in range(3):
        source.append(WORK, 0, f"h{i}".encode())
    agency.fail = 1
    loop = ConsumeLoop(source, agency, batch_size=10)

    assert not asyncio.run(loop.once())
    assert source.commits == []
    assert source.position[TP(WORK, 0)] == 0
    assert asyncio.run(loop.once())
    assert agency.processed == [b"h0", b"h1", b"h2"]
    assert source.commits == [{TP(WORK, 0): 3}]


def test_an_outage_takes_in_what_came_before_it_and_holds_the_rest_until_it_ends() -> None:
    source, agency = FakeConsumer(), Agency()
    for i, hours in enumerate((-2, -1, 1, 2)):
        r: Record = source.append(WORK, 0, f"h{i}".encode())
        agency.received[r.value] = T0 + timedelta(hours=hours)
    agency.closed = T0
    loop = ConsumeLoop(source, agency, batch_size=10)

    assert asyncio.run(loop.once())
    assert agency.processed == [b"h0", b"h1"]
    assert source.paused == {TP(WORK, 0)}
    assert source.commits[-1] == {TP(WORK, 0): 2}  # committed up to the first held message
    assert not asyncio.run(loop.once())  # still closed: the partition stays paused
    assert agency.processed == [b"h0", b"h1"]

    agency.closed = None
    assert asyncio.run(loop.once())
    assert agency.processed == [b"h0", b"h1", b"h2", b"h3"]
    assert source.paused == set()


def test_the_loop_reports_the_messages_behind_the_last_one_it_handled() -> None:
    source, agency = FakeConsumer(), Agency()
    for i in range(7):
        source.append(WORK, 0, f"h{i}".encode())
    loop = ConsumeLoop(source, agency, batch_size=3)

    assert asyncio.run(loop.once())
    assert loop.backlog == {TP(WORK, 0): 4}  # what a governed run reads as this agency falling behind
    assert asyncio.run(loop.once())
    assert asyncio.run(loop.once())
    assert loop.backlog == {TP(WORK, 0): 0}
    assert not asyncio.run(loop.once())  # a poll that finds nothing: nothing waits
    assert loop.backlog == {}
