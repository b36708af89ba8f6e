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


WATCH_S = 60.0
"""Real seconds a re-read partition stays watched for skipped offsets after its log was found lost
or the group last gave it to this worker: the restart, the group's rejoin and faust's commits of
offsets it took back all fall well inside (measured: the rejoin 7.9 s after a crash)."""


@dataclass
class Coverage(Generic[P]):
    """Which offsets of a re-read partition the worker has handled, so a skip shows.

    After the broker lost a log, the worker reads it again from the start, but faust may still
    jump ahead: messages of the old log it had fetched before the seek move its read position up
    (it then drops everything below), and a rebalance puts it at an offset committed from them.
    Events written just after the restart never reached the monitor that way (a faults e2e run
    lost a handoff's `handoff.sent` and missed its lost alert). Every offset of the topic carries a
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
