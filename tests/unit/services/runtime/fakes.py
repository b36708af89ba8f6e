"""Fakes for unit tests of the agency loops: a pool whose connection's transactions roll the
memory stores back on an error (as PostgreSQL rolls back a transaction or a savepoint), and a
Kafka consumer fed from lists. The memory stores themselves are the platform's
(`MemoryInbox`, `MemoryOutbox`, `MemoryTaskStore`), held to the same contract as PostgreSQL."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class FakeConn:
    def __init__(self, *stores: Any) -> None:
        self.stores = stores

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = [copy.deepcopy(vars(s)) for s in self.stores]
        try:
            yield
        except BaseException:
            for store, state in zip(self.stores, saved, strict=True):
                vars(store).clear()
                vars(store).update(state)
            raise


class FakePool:
    def __init__(self, *stores: Any) -> None:
        self.conn = FakeConn(*stores)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConn]:
        yield self.conn


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class FakeConsumer:
    """A consumer over in-memory partitions: `getmany` returns what lies past each position,
    honouring seek and pause; `commit` records the positions."""

    log: dict[TP, list[Record]] = field(default_factory=dict)
    position: dict[TP, int] = field(default_factory=dict)
    paused: set[TP] = field(default_factory=set)
    commits: list[dict[TP, int]] = field(default_factory=list)

    def append(self, topic: str, partition: int, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> Record:
        tp = TP(topic, partition)
        rs = self.log.setdefault(tp, [])
        r = Record(topic, partition, len(rs), b"key", value, headers)
        rs.append(r)
        return r

    async def getmany(self, *partitions: Any, timeout_ms: int = 0, max_records: int | None = None) -> Any:
        out: dict[TP, list[Record]] = {}
        for tp, rs in self.log.items():
            if tp in self.paused:
                continue
            at = self.position.get(tp, 0)
            if rest := rs[at : at + (max_records or len(rs))]:
                out[tp] = rest
                self.position[tp] = rest[-1].offset + 1
        return out

    def seek(self, partition: Any, offset: int) -> None:
        self.position[partition] = offset

    def pause(self, *partitions: Any) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: Any) -> None:
        self.paused.difference_update(partitions)

    def highwater(self, partition: Any) -> int | None:
        return len(self.log.get(partition, []))

    async def commit(self) -> None:
        self.commits.append(dict(self.position))
