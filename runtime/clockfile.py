"""The shared source of a governed clock's rate: a small JSON file in the stack's home.

The governor (simulation/governor.py) writes it; every process of the stack reads it through
`ClockFile`, which looks at the file at most every `POLL_S` and parses it only when it changed, so
the clock's hot path costs a `stat` now and then. A file, not a topic or a table: every process of
a run shares the stack's home already (its `stack.json`), the read needs no connection, and a
change is seen within `POLL_S`, well inside the lead each change is announced with
(simulation/governor.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from contracts.clock import Segment, SimClock

POLL_S = 0.05
"""Real seconds between two looks at the file."""
LEAD_S = 0.3
"""Real seconds between a rate change's decision and its start: every process polls the clock file
every `POLL_S`, so all of them know a change before it applies and no clock steps backwards."""
WAIT_STEP_S = 0.25
"""Longest real sleep while waiting for a sim time on a governed clock (its rate may change)."""


class ClockFile:
    """Callable: the segments the file holds now (the last good ones if it is being replaced)."""

    def __init__(self, path: Path, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._monotonic = monotonic
        self._checked = float("-inf")
        self._stamp: tuple[int, int] | None = None
        self._segments: tuple[Segment, ...] = ()

    def __call__(self) -> Sequence[Segment]:
        now = self._monotonic()
        if now - self._checked >= POLL_S:
            self._checked = now
            self._reload()
        return self._segments

    def _reload(self) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        try:
            self._segments = read_segments(self.path)
        except (OSError, ValueError, KeyError, TypeError):
            return  # caught mid-write is impossible (atomic rename); anything else: keep the last
        self._stamp = stamp


def read_segments(path: Path) -> tuple[Segment, ...]:
    return read_clock_file(path)[0]


def read_clock_file(path: Path) -> tuple[tuple[Segment, ...], bool]:
    """The segments, and whether the last one is a stop that ended a run or a redrive's wait
    (ops/runclock.py) rather than a pause of the governor."""
    data = json.loads(path.read_text(encoding="utf-8"))
    segments = tuple(
        Segment(anchor=float(s["anchor"]), epoch=datetime.fromisoformat(s["epoch"]), speed=float(s["speed"]))
        for s in data["segments"]
    )
    return segments, bool(data.get("stopped", False))


def write_segments(path: Path, segments: Sequence[Segment], stopped: bool = False) -> None:
    """Replace the file at once (write aside, rename), so a reader never sees half of it."""
    body: dict[str, object] = {
        "segments": [{"anchor": s.anchor, "epoch": s.epoch.isoformat(), "speed": s.speed} for s in segments],
        "stopped": stopped,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, path)


async def sleep_until(clock: SimClock, sim: datetime) -> None:
    """Return once the clock shows `sim`; on a governed clock, in short steps, since the rate
    may change (or the clock pause) meanwhile."""
    while True:
        wait = clock.real_at(sim) - time.time()
        if wait <= 0:
            return
        await asyncio.sleep(wait if clock.segments is None else min(wait, WAIT_STEP_S))
