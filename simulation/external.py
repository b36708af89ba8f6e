"""An integrator's system in a governed run: its progress read from the broker alone.

The clock cannot ask an integrator's system for `/progress`; the contract asks it only to commit
its offsets after processing. So for each external agency the proof (simulation/horizon.py) also
needs, from the broker: some consumer group that is not one of the simulation's own has committed,
on every partition of the agency's work topic, the end offset. Until a group of its own exists,
the system has not been started and nothing is proven (sim time stands at the period's start, or
at the horizon). A partition that holds nothing but its primer (the embedded broker's,
runtime/primers.py) needs no commit. What the system does with
a message after committing it is its own business: it must publish the result within the stamping
bound, as the contract says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from runtime.groups import BROKER_TIMEOUT_S, GroupReader


def unread(ends: Mapping[int, int], committed: Mapping[str, Mapping[int, int]], primed: bool) -> int | None:
    """The fewest messages any one group has left unread on the topic (`ends` and each group's
    `committed` offsets by partition); None when no group has committed there at all. Pure."""
    floor = 1 if primed else 0
    best: int | None = None
    for offsets in committed.values():
        if not offsets:
            continue
        left = sum(max(0, end - offsets.get(p, floor)) for p, end in ends.items())
        best = left if best is None else min(best, left)
    if best is None and all(end <= floor for end in ends.values()):
        return 0
    return best


@dataclass
class ExternalWatch:
    bootstrap: str
    topics: dict[str, str]
    """Each external agency's work topic."""
    ours: frozenset[str]
    """The simulation's own consumer groups (never the integrator's): these names, and the names
    that start with one of them and a dot (`lt.portal.timeline`, the monitor's `lt.monitor.RUN`)."""
    primed: bool
    _reader: GroupReader | None = field(default=None, repr=False)

    async def start(self) -> None:
        self._reader = GroupReader(self.bootstrap, "lienthong-clock", skip=self._ours)
        await self._reader.start()

    async def stop(self) -> None:
        if self._reader is not None:
            await self._reader.stop()

    def _ours(self, group: str) -> bool:
        return any(group == name or group.startswith(f"{name}.") for name in self.ours)

    async def holders(self) -> list[str]:
        """Why each external agency is not proven caught up (empty: all are)."""
        try:
            async with asyncio.timeout(BROKER_TIMEOUT_S):
                return await self._holders()
        except Exception as exc:  # the broker not answering proves nothing
            return [f"{agency}: no answer from the broker ({type(exc).__name__})" for agency in self.topics]

    async def _holders(self) -> list[str]:
        assert self._reader is not None
        groups = await self._reader.groups(time.monotonic())
        if not groups:
            # Nothing has joined yet: the integrator's system has not been started.
            return [f"{agency}: no consumer group of its own yet" for agency in self.topics]
        found: list[str] = []
        for agency, topic in self.topics.items():
            readers = await self._reader.readers(topic, groups)
            if readers is None:
                found.append(f"{agency}: topic {topic} unknown yet")
                continue
            left = unread(readers.ends, readers.committed, self.primed)
            if left is None:
                found.append(f"{agency}: no consumer group has committed on {topic}")
            elif left:
                found.append(f"{agency}: {left} unread")
        return found
