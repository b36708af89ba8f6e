"""How a tick's deadline check grows with the number of open dossiers, and what one open dossier
costs the monitor in memory. In process, no broker: the detector is pure."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import timedelta

from contracts.chains import load_chains
from simulation.bench.lifecycle import START, awaiting_intake
from streams.detect import Monitor
from streams.rules import default_rules
from streams.tracker import Tracker

DUE_PER_TICK = 250
"""Deadlines that fall due in each measured tick, at every size (the work a tick must do)."""
TICKS = 40


def open_monitor(n: int) -> Monitor:
    """A monitor following `n` open dossiers, their deadlines spread so that each measured tick
    finds DUE_PER_TICK of them due."""
    m = Monitor(Tracker(load_chains(), default_rules()))
    for i in range(n):
        for e in awaiting_intake(str(uuid.uuid4()), START + timedelta(seconds=i)):
            m.observe(e)
    return m


def tick_cost(n: int, progress: Callable[[str], None]) -> tuple[float, float]:
    """Median and mean seconds per tick with `n` open dossiers, each tick popping DUE_PER_TICK
    findings. The median is the figure: another process waking on these two cores, or a garbage
    collection of the whole heap (a cost of the heap's size, paid by any allocation, not by the
    index), lands on a few ticks; the mean is reported beside it."""
    progress(f"deadline cost: {n:,} open dossiers")
    m = open_monitor(n)
    # Each dossier's handoff awaits its acknowledgement for the link timeout, dossiers one second
    # apart: stepping the tick DUE_PER_TICK seconds at a time makes as many due each time.
    first = min(x.due_at for d in m.dossiers.values() for x in d.pending.values() if x.kind == "lost")
    gc.collect()
    took: list[float] = []
    found = 0
    for k in range(TICKS):
        now = first + timedelta(seconds=DUE_PER_TICK * (k + 1))
        t0 = time.perf_counter()
        found += len(m.tick(now))
        took.append(time.perf_counter() - t0)
    if found < DUE_PER_TICK * TICKS * 0.9:
        raise RuntimeError(f"deadline bench: only {found} findings in {TICKS} ticks at n={n}")
    return statistics.median(took), statistics.fmean(took)


def bytes_per_open_dossier(n: int = 50_000) -> float:
    """Traced Python memory of the monitor's state per open dossier (dossier, its expectations,
    their index entries)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    m = open_monitor(n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(m.dossiers) == n
    return (after - before) / n


def measure(progress: Callable[[str], None], small: int = 10_000, large: int = 1_000_000) -> dict[str, float]:
    cost_small, mean_small = tick_cost(small, progress)
    cost_large, mean_large = tick_cost(large, progress)
    progress("memory per open dossier")
    return {
        "deadline_tick_s_small": round(cost_small, 6),
        "deadline_tick_s_large": round(cost_large, 6),
        "deadline_cost_ratio": round(cost_large / cost_small, 3),
        "deadline_cost_ratio_mean": round(mean_large / mean_small, 3),
        "bytes_per_open_dossier": round(bytes_per_open_dossier(), 1),
    }
