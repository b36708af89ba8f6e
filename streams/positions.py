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
