"""Has the broker lost a partition's log under the monitor?

A broker that crashes with memory-only storage (the embedded Tansu) comes back with empty topics.
Plain aiokafka consumers then get "offset out of range" and start again at the beginning. The faust
worker also remembers, in memory, the highest offset it has handed to its agent and silently drops
every message below it, so it would skip everything written to the new log until the log grows past
the old position (sim days at high speed). The monitor therefore watches each partition's end
offset: one that moved backwards, or sits below what the worker has already read, means the log
was lost and recreated, and the worker must read that partition again from its start.

Pure: the faust adapter in `streams/app.py` feeds it offsets and applies the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass
class LogWatch(Generic[P]):
    """The newest end offset seen per partition, and which partitions' logs were lost."""

    seen: dict[P, int] = field(default_factory=dict)

    def lost(self, ends: Mapping[P, int], read: Mapping[P, int | None]) -> set[P]:
        """Partitions whose log is shorter than before (`ends` are the current end offsets,
        `read` faust's read offsets taken *before* `ends` were asked for, None when nothing was
        read; a healthy log's end then never falls below them). Remembers `ends`."""
        gone: set[P] = set()
        for p, end in ends.items():
            before = self.seen.get(p)
            offset = read.get(p)
            if (before is not None and end < before) or (offset is not None and end < offset):
                gone.add(p)
            self.seen[p] = end
        return gone


LOOK_AFTER_S = 0.25
"""Real seconds without a message on a partition after which the next batch there is checked
against the broker (`Continuity`): a broker cannot crash and come back in less."""


def digest(value: bytes) -> bytes:
    return hashlib.blake2b(value, digest_size=8).digest()


@dataclass(frozen=True)
class Look(Generic[P]):
    partition: P
    offset: int
    digest: bytes


@dataclass
class Continuity(Generic[P]):
    """The last message handled on each partition, to prove that a batch continues the log read
    before. The end-offset check (`LogWatch`) misses a log that was lost and has grown past the
    worker's position by the time the broker answers: the worker then reads the new log from its
    old position, skips everything below it, and a clock mark there moves the judged time over
    heartbeats it never read (false agency silences after a crash of the embedded broker at 16
    times a month's speed). So the first batch after a pause on a partition is handled only once
    the broker shows the message last handled still where it was."""

    last: dict[P, tuple[int, bytes, float]] = field(default_factory=dict)
    """Partition → offset, digest and real time (monotonic) of the last message handled."""

    def handled(self, p: P, offset: int, value: bytes, now: float) -> None:
        self.last[p] = (offset, digest(value), now)

    def forget(self, p: P) -> None:
        """`p` is read again from its start: what was read before proves nothing now."""
        self.last.pop(p, None)

    def look(self, p: P, first: int, now: float) -> Look[P] | None:
        """What to ask the broker before handling a batch of `p` from offset `first`: the last
        message handled, when the batch follows it after a pause (None: handle it at once)."""
        known = self.last.get(p)
        if known is None:
            return None
        offset, value_digest, at = known
        if first <= offset or now - at < LOOK_AFTER_S:
            return None
        return Look(p, offset, value_digest)


WATCH_S = 60.0
"""Real seconds a re-read partition stays watched for skipped offsets after its log was found lost
or the group last gave it to this worker: the restart, the group's rejoin and faust's commits of
offsets it took back all fall well inside (measured: the rejoin 7.9 s after a crash)."""


@dataclass
class Coverage(Generic[P]):
    """Which offsets of a re-read partition the worker has handled, so a skip shows.

    After the broker lost a log, the worker reads it again from the start, but faust may still
    jump ahead: messages of the old log it had fetched before the seek move its read position up
    (it then drops everything below), and a rebalance puts it at an offset committed from them,
    so events written just after the restart would never reach the monitor. Every offset of the topic carries a
    message (no transactions, no compaction), so a re-read partition must come in contiguously:
    `admit` takes each batch, keeps the contiguous part, and says where to read again from when
    a message lies past a gap. Partitions not watched pass untouched. Pure: clock passed in."""

    next: dict[P, int] = field(default_factory=dict)
    """Per watched partition: the lowest offset not handled yet."""
    until: dict[P, float] = field(default_factory=dict)

    def watch(self, p: P, start: int, now: float) -> None:
        """Read `p` again from `start`: watch it for WATCH_S."""
        self.next[p] = start
        self.until[p] = now + WATCH_S

    def extend(self, p: P, now: float) -> None:
        """The group gave `p` to this worker again: keep watching it, if it was."""
        if p in self.next:
            self.until[p] = now + WATCH_S

    def admit(self, p: P, offsets: list[int], now: float) -> tuple[int, int | None]:
        """Of a batch's offsets on `p` (ascending), how many lead it contiguously (handle those),
        and the offset to read again from when a gap follows (None: no gap)."""
        if p not in self.next:
            return len(offsets), None
        if now > self.until[p]:
            del self.next[p], self.until[p]
            return len(offsets), None
        want = self.next[p]
        kept = 0
        for o in offsets:
            if o < want:
                kept += 1  # read again after a rewind: stored once, recognised by its id
                continue
            if o > want:
                return kept, want
            want += 1
            kept += 1
        self.next[p] = want
        return kept, None
