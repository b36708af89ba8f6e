"""The deadline index: which expectations fall due by a given sim time, in O(log n) each.

A binary heap of (due, dossier, key). Meeting an expectation does not search the heap: its entry
stays and is skipped when it surfaces (lazy deletion), so every operation is a push or a pop.
A tick therefore costs O(k log n) for the k entries due, not a scan of the n open dossiers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime

from streams.tracker import Expectation

Lookup = Callable[[str, str], Expectation | None]
"""(dossier id, key) → the expectation if it is still open."""


class DeadlineIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str, str]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, dossier_id: str, x: Expectation) -> None:
        heapq.heappush(self._heap, (x.due_at.timestamp(), dossier_id, x.key))

    def due(self, now: datetime, lookup: Lookup) -> Iterator[tuple[str, Expectation]]:
        """Pop every entry due strictly before `now`; yield those still open."""
        limit = now.timestamp()
        while self._heap and self._heap[0][0] < limit:
            due, dossier_id, key = heapq.heappop(self._heap)
            x = lookup(dossier_id, key)
            if x is not None and x.due_at.timestamp() == due:
                yield dossier_id, x
