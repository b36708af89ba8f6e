"""The deadline index: which expectations fall due by a given sim time, at a cost that does not
grow with the number of open dossiers.

A timing wheel: entries (due, dossier, key) sit in buckets of `bucket_s` sim seconds, and a small
heap orders the bucket numbers in use. A tick takes whole buckets that ended before it and filters
the one it falls in, so it costs O(k) for the k entries due plus the boundary bucket, not
O(k log n) in a heap of every open deadline (measured: a heap of two million entries made a tick
2.35 times dearer at a million open dossiers than at ten thousand, by cache misses alone).
Meeting an expectation does not search the index: its entry stays and is skipped when it
surfaces (lazy deletion).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from datetime import datetime

from streams.tracker import Expectation

Lookup = Callable[[str, str], Expectation | None]
"""(dossier id, key) → the expectation if it is still open."""

BUCKET_S = 60.0
Entry = tuple[float, str, str]


class DeadlineIndex:
    def __init__(self, bucket_s: float = BUCKET_S) -> None:
        self._bucket_s = bucket_s
        self._buckets: dict[int, list[Entry]] = {}
        self._numbers: list[int] = []
        """Heap of the bucket numbers in `_buckets`."""
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, dossier_id: str, x: Expectation) -> None:
        due = x.due_at.timestamp()
        n = math.floor(due / self._bucket_s)
        bucket = self._buckets.get(n)
        if bucket is None:
            bucket = self._buckets[n] = []
            heapq.heappush(self._numbers, n)
        bucket.append((due, dossier_id, x.key))
        self._size += 1

    def due(self, now: datetime, lookup: Lookup) -> Iterator[tuple[str, Expectation]]:
        """Take every entry due strictly before `now`, oldest first; yield those still open."""
        limit = now.timestamp()
        while self._numbers and self._numbers[0] * self._bucket_s < limit:
            n = self._numbers[0]
            bucket = self._buckets[n]
            if (n + 1) * self._bucket_s <= limit:
                taken, rest = bucket, []
            else:
                taken = [e for e in bucket if e[0] < limit]
                rest = [e for e in bucket if e[0] >= limit]
            if rest:
                self._buckets[n] = rest
            else:
                heapq.heappop(self._numbers)
                del self._buckets[n]
            self._size -= len(taken)
            for due, dossier_id, key in sorted(taken):
                x = lookup(dossier_id, key)
                if x is not None and x.due_at.timestamp() == due:
                    yield dossier_id, x
            if rest:
                return  # the bucket `now` falls in: nothing after it is due
