"""The monitor's event-time watermark: up to which sim time has every event been read?

The worker writes `clock.mark` events to every partition of the dossier-events topic, stamped on
a fixed grid of sim times one tick apart (the grid point at or before the clock, so a stamp is
never ahead of the events produced after it). Reading a partition's mark back proves every event
produced to that partition before it has been read. An event is produced at most `lag` after its
stamp, so every event stamped up to `min over partitions of the newest mark − lag` is in: that is
the judged time, and deadlines are judged there and nowhere later.

Because the stamps sit on the grid, the judged time moves one tick at a time even when the timer
fires late (it then writes the grid points it missed, in order): an expectation due between two
judged times is reported at the next one, at most one tick after its deadline. How far the
judged time trails the clock (the lag, plus a slow monitor's backlog) is reported separately as
the alert's `raised_at`, so being late is visible and never hidden in the delay figure.
Pure: the faust worker feeds it marks and asks it for stamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_CATCH_UP = 7200
"""At most this many missed grid points (an hour of ticks) are written at once: after a broker
outage every missed tick is judged in turn; a longer stall jumps, and the alerts due inside the
jump are late by that much: honestly."""


@dataclass(frozen=True)
class Grid:
    origin: datetime
    step: timedelta

    def floor(self, t: datetime) -> datetime:
        return self.origin + self.step * math.floor((t - self.origin) / self.step)

    def ceil(self, t: datetime) -> datetime:
        return self.origin + self.step * math.ceil((t - self.origin) / self.step)

    def points(self, after: datetime | None, now: datetime) -> list[datetime]:
        """The grid points in (after, now], oldest first; at most MAX_CATCH_UP of the newest."""
        last = self.floor(now)
        if after is None:
            return [last]
        count = round((last - self.floor(after)) / self.step)
        return [last - self.step * k for k in reversed(range(min(count, MAX_CATCH_UP)))]


@dataclass
class Watermark:
    partitions: int
    lag: timedelta
    grid: Grid
    marks: dict[int, datetime] = field(default_factory=dict)
    judged: datetime | None = None
    """The sim time up to which every event has been read; None until each partition answered."""
    owned: frozenset[int] | None = None
    """The partitions this worker reads (replicas split them); None: all `partitions`."""

    def own(self, partitions: frozenset[int]) -> None:
        """Judge over these partitions from now on. The judged time never moves back: a partition
        newly owned holds it until its first mark is read."""
        self.owned = partitions
        self.marks = {p: t for p, t in self.marks.items() if p in partitions}

    def observe(self, partition: int, stamp: datetime) -> datetime | None:
        """Fold in a mark read back; the new judged time if it moved forward."""
        owned = self.owned if self.owned is not None else frozenset(range(self.partitions))
        if partition not in owned:
            return None
        if stamp > self.marks.get(partition, stamp - self.grid.step):
            self.marks[partition] = stamp
        if not owned or len(self.marks) < len(owned):
            return None
        judged = min(self.marks.values()) - self.lag
        if self.judged is not None and judged <= self.judged:
            return None
        self.judged = judged
        return judged

    def first_judged_after(self, due: datetime) -> datetime:
        """The first judged time at or after `due` (where a tick reports what is due then)."""
        return self.grid.ceil(due + self.lag) - self.lag
