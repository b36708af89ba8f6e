"""The `runs` part of the benchmark reads the monitor's count of lifecycle events from its
/metrics text: every type's line, summed, and nothing else."""

from __future__ import annotations

from simulation.bench.runs import CAPACITY_SPEED, READ, RUNS

METRICS = """# HELP lienthong_monitor_events_total Lifecycle events the monitor read (first delivery), by type
# TYPE lienthong_monitor_events_total counter
lienthong_monitor_events_total{type="handoff.sent"} 1204.0
lienthong_monitor_events_total{type="step.completed"} 3.5e+03
# HELP lienthong_monitor_events_created Lifecycle events the monitor read
lienthong_monitor_events_created{type="handoff.sent"} 1.7e+09
lienthong_monitor_duplicates_total{type="handoff.sent"} 9.0
"""


def test_the_monitors_event_count_is_the_sum_of_its_per_type_lines() -> None:
    assert sum(float(v) for v in READ.findall(METRICS)) == 4704.0


def test_the_capacity_run_is_the_smoke_burst_on_a_steady_clock_far_ahead_of_the_work() -> None:
    runs = dict(RUNS)
    assert runs["capacity"][:4] == runs["smoke"][:4]
    assert runs["capacity"][4:] == ["--no-governor", "--speed", str(CAPACITY_SPEED)]
    assert "--no-governor" not in runs["month"] + runs["smoke"]
