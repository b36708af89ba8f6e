"""The `runs` part of `lienthong bench`: how fast whole runs go on the governed clock, beside the
processing capacity of the same stack measured in the same bench run.

- `month`: the demo month (`ha-tinh-2024-01 --faults report-faults`), governed;
- `smoke`: 1,000 births at once, fault-free, governed;
- `capacity`: the same 1,000 births on a steady clock far ahead of the work (`--no-governor` at
  `CAPACITY_SPEED`), so that everything is due at once and the agencies and the monitor take it
  as fast as they can. Its stamps are clamped by design: it measures throughput, not verdicts.

For each: dossiers/s over the run, the lifecycle events the monitor read (its
`lienthong_monitor_events_total`, once it stopped growing after the run) and those per second
of the run, and for the
governed runs how long sim time stood at the horizon and who held it (docs/time.md). The ratios
set each governed run's events/s beside the capacity's.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deploy.state import StackState
from simulation.bench.child import last_json

CAPACITY_SPEED = 10_000_000
"""Sim seconds per real second of the capacity run: a day in under 0.01 s, so all work is due."""
RUNS = (
    ("month", ["--profile", "ha-tinh-2024-01", "--faults", "report-faults"]),
    ("smoke", ["--profile", "smoke", "--faults", "none"]),
    ("capacity", ["--profile", "smoke", "--faults", "none", "--no-governor", "--speed", str(CAPACITY_SPEED)]),
)
READ = re.compile(r"^lienthong_monitor_events_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


def monitor_events(home: Path) -> int:
    """Lifecycle events the monitor read since it started (every monitor process, summed)."""
    services = StackState(home).ports()
    total = 0.0
    for name, port in services.items():
        if name == "monitor" or name.startswith("monitor-"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                total += sum(float(v) for v in READ.findall(r.read().decode()))
    return int(total)


def settled_events(home: Path, quiet_s: float = 2.0, limit_s: float = 60.0) -> int:
    """The monitor's count once it stopped growing for `quiet_s` (it may still be reading when
    the run ends: the run ends when the portal has every result)."""
    ends = time.monotonic() + limit_s
    last, since = monitor_events(home), time.monotonic()
    while time.monotonic() < ends:
        time.sleep(0.5)
        now = monitor_events(home)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def one(name: str, args: list[str], home: Path, step: Callable[[str], None]) -> dict[str, Any]:
    step(f"runs: {name} (`lienthong run {' '.join(args)}`)")
    # 1: the run finished with dossiers a fault still holds (the demo month's, until redrive).
    summary = last_json("lienthong.cli", ["run", *args, "--json"], 3600, f"the {name} run", codes=(0, 1))
    events = settled_events(home)
    elapsed = float(summary["elapsed_s"])
    governor = summary.get("governor") or {}
    figures: dict[str, Any] = {
        "elapsed_s": elapsed,
        "dossiers_per_s": summary["dossiers_per_s"],
        "events": events,
        "events_per_s": round(events / elapsed, 1) if elapsed else None,
        "clamped": summary["stamping"]["clamped"],
    }
    if governor:
        figures["held_s"] = governor["held_s"]
        figures["held_share"] = round(governor["held_s"] / elapsed, 3) if elapsed else None
        figures["held_by"] = governor["held_by"]
    return figures


def measure(home: Path, step: Callable[[str], None]) -> dict[str, Any]:
    """Every run of `RUNS`, one after the other on the same stack, and the ratios."""
    runs = {name: one(name, args, home, step) for name, args in RUNS}
    capacity = runs["capacity"]["events_per_s"]
    ratios = {
        f"{name}_events_vs_capacity": round(runs[name]["events_per_s"] / capacity, 3)
        for name in ("month", "smoke")
        if capacity and runs[name]["events_per_s"]
    }
    if runs["capacity"]["dossiers_per_s"]:
        # The same 1,000 births: dossiers per second compare directly.
        ratios["smoke_dossiers_vs_capacity"] = round(
            runs["smoke"]["dossiers_per_s"] / runs["capacity"]["dossiers_per_s"], 3
        )
    return {"runs": runs, "runs_vs_capacity": ratios}
