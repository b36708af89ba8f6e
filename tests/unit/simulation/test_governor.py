"""The governed clock: a window past the last moment proven done (pure parts and the clock
file every process reads)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.clock import VN_TZ, SimClock
from runtime.clockfile import ClockFile, read_segments
from simulation.governor import LEAD_S, Governor
from simulation.horizon import WINDOW_SHARE, prove, quiet_until

SPEED = 20_000.0
BOUND = 5.0
EPOCH = datetime(2024, 1, 2, 8, 0, tzinfo=VN_TZ)
T = EPOCH + timedelta(hours=3)


def idle(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ready": True,
        "instance": "hotich",
        "unread": 0,
        "in_hand": 0,
        "next_due": (T + timedelta(minutes=5)).isoformat(),
        "owned": [0, 1],
        "total": 2,
        "counts": [10, 20, 3],
    }
    return {**body, **over}


def test_a_moment_is_proven_only_when_every_process_answered_twice_idle_and_unchanged() -> None:
    both = {"hotich": idle(), "cutru": idle(instance="cutru")}
    assert prove(T, both, both, {"hotich", "cutru"}, None).proven
    assert prove(T, both, both, {"hotich", "cutru"}, T + timedelta(seconds=1)).proven
    cases = {
        "cutru: no answer": ({"hotich": idle()}, both, None),
        "hotich: working": (both, {**both, "hotich": idle(counts=[11, 20, 3])}, None),
        "hotich: 3 unread": (both, {**both, "hotich": idle(unread=3)}, None),
        "hotich: 1 in hand": ({**both, "hotich": idle(in_hand=1)}, both, None),
        "hotich: work due": (
            {**both, "hotich": idle(next_due=T.isoformat())},
            {**both, "hotich": idle(next_due=T.isoformat())},
            None,
        ),
        "hotich: no answer from the broker": (both, {**both, "hotich": idle(unread=None)}, None),
        "hotich: not ready": (both, {**both, "hotich": idle(ready=False)}, None),
        "submissions: not all posted": (both, both, T),
    }
    for why, (first, second, owed) in cases.items():
        proof = prove(T, first, second, {"hotich", "cutru"}, owed)
        assert not proof.proven, why
        assert why in proof.holders, (why, proof)
    restarted = {**both, "hotich": idle(instance="hotich-2")}
    assert prove(T, both, restarted, {"hotich", "cutru"}, None).holders == ("hotich: working",)
    now_due = {**both, "cutru": idle(instance="cutru", next_due="now")}
    assert prove(T, now_due, now_due, {"hotich", "cutru"}, None).holders == ("cutru: work due",)


def test_every_partition_of_an_agencys_work_topic_must_be_owned_by_one_of_its_processes() -> None:
    a, b = idle(instance="cutru", owned=[0]), idle(instance="cutru-2", owned=[])
    first = {"cutru": a, "cutru-2": b}
    assert prove(T, first, first, {"cutru", "cutru-2"}, None).holders == ("cutru: partitions [1] unowned",)
    b = idle(instance="cutru-2", owned=[1])
    second = {"cutru": a, "cutru-2": b}
    assert prove(T, second, second, {"cutru", "cutru-2"}, None).proven


def test_sim_time_stops_at_the_window_past_the_last_proof_with_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=BOUND, segments=lambda: read_segments(path))
    gov = Governor(clock, path, tmp_path, ceiling=4 * SPEED)
    gov.start()
    assert clock.at(1500.0) == EPOCH  # sim time stands until the agencies prove they are there
    window = timedelta(seconds=WINDOW_SHARE * BOUND * SPEED)
    gov.proven(EPOCH, real=1001.0)
    # Standing still, it starts at once: a process that reads the change late only stands longer.
    assert clock.at(1001.0) == EPOCH
    assert clock.at(1001.0 + 0.25) == EPOCH + timedelta(seconds=SPEED)
    # It runs at the ceiling, then stands at the horizon, however long nothing more is proven.
    assert clock.at(1001.0 + 3600.0) == EPOCH + window
    assert gov.stopped(1001.0 + 3600.0)
    # A later proof moves it on from where it stood, without a step back or forth.
    real = 1001.0 + 3600.0
    t = EPOCH + window
    gov.proven(t, real=real)
    assert clock.at(real) == EPOCH + window
    assert clock.at(real + 3600.0) == t + window
    # A proof for a moment already covered changes nothing.
    before = list(gov.segments)
    gov.proven(EPOCH, real=real + 1)
    assert gov.segments == before
    assert gov.summary()["proofs"] == 3


def test_a_change_to_a_running_clock_applies_only_after_the_lead(tmp_path: Path) -> None:
    """Every process reads the clock file within its poll; a change to a running clock starts
    `LEAD_S` ahead so that all of them apply it at the same sim instant."""
    path = tmp_path / "clock.json"
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=BOUND, segments=lambda: read_segments(path))
    gov = Governor(clock, path, tmp_path, ceiling=SPEED)
    gov.start()
    gov.proven(EPOCH, real=1000.0)
    gov.proven(EPOCH + timedelta(seconds=SPEED), real=1001.0)
    assert next(s.anchor for s in gov.segments if s.anchor > 1000.0) == 1001.0 + LEAD_S
    assert clock.at(1001.0 + LEAD_S) == EPOCH + timedelta(seconds=SPEED * (1.0 + LEAD_S))


def test_a_proof_while_running_moves_the_stop_on_and_the_clock_never_steps_back(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=BOUND, segments=lambda: read_segments(path))
    gov = Governor(clock, path, tmp_path, ceiling=SPEED)
    gov.start()
    gov.proven(EPOCH, real=1000.0)
    seen = []
    for k in range(1, 20):
        real = 1000.0 + k * 0.5
        # What a process reads between two proofs, in real-time order, from the file of the time.
        seen += [clock.at(real - 0.5 + j * 0.05) for j in range(10)]
        gov.proven(gov._at(real), real=real)
    seen += [clock.at(1000.0 + 19 * 0.5 + j * 0.05) for j in range(10)]
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert seen[-1] > seen[0]
    assert not gov.stopped(1000.0 + 19 * 0.5)


def test_the_time_held_at_the_horizon_is_counted_by_who_held_it(tmp_path: Path) -> None:
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=BOUND)
    gov = Governor(clock, tmp_path / "clock.json", tmp_path)
    gov.hold(("cutru: 4 unread", "cutru-2: no answer", "submissions: not all posted"), 2.0)
    gov.hold(("cutru: working",), 1.0)
    assert gov.summary()["held_by"] == {"cutru": 3.0, "submissions": 2.0, "cutru-2": 2.0}
    assert gov.summary()["held_s"] == 3.0


def test_a_process_sees_a_change_within_its_poll_and_keeps_the_last_good_file(tmp_path: Path) -> None:
    from contracts.clock import Segment
    from runtime.clockfile import POLL_S, write_segments

    path = tmp_path / "clock.json"
    now = [0.0]
    source = ClockFile(path, monotonic=lambda: now[0])
    assert source() == ()  # no file yet: the clock's own rate
    first = (Segment(1000.0, datetime(2024, 1, 2, tzinfo=VN_TZ), 10.0),)
    write_segments(path, first)
    assert source() == ()  # looked at once in a poll interval: the file is read at the next look
    now[0] += POLL_S
    assert tuple(source()) == first
    path.write_text("{not json", encoding="utf-8")
    now[0] += POLL_S
    assert tuple(source()) == first


def test_an_idle_stretch_runs_at_the_idle_rate_up_to_the_next_due_moment_then_at_the_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=BOUND, segments=lambda: read_segments(path))
    gov = Governor(clock, path, tmp_path, ceiling=4 * SPEED, idle_rate=20 * SPEED)
    gov.start()
    window = timedelta(seconds=WINDOW_SHARE * BOUND * SPEED)
    quiet = EPOCH + window / 2
    gov.proven(EPOCH, real=1001.0, quiet_until=quiet)
    start = 1001.0  # standing still: at once
    fast = (quiet - EPOCH).total_seconds() / (20 * SPEED)
    assert clock.at(start + fast / 2) == EPOCH + (quiet - EPOCH) / 2
    assert clock.at(start + fast) == quiet
    assert clock.at(start + fast + 0.25) == quiet + timedelta(seconds=SPEED)  # the ceiling from there
    # The window still bounds it: however long nothing is due, sim time stops a window past the proof.
    gov.proven(EPOCH + window, real=1100.0, quiet_until=EPOCH + 100 * window)
    assert clock.at(1100.0 + 3600.0) == EPOCH + 2 * window
    assert clock.at(1100.0 + window.total_seconds() / (20 * SPEED) / 2) == EPOCH + 1.5 * window


def test_nothing_due_comes_from_the_earliest_next_due_and_submission() -> None:
    soon, later = T + timedelta(hours=1), T + timedelta(hours=9)
    bodies = {"hotich": idle(next_due=later.isoformat()), "cutru": idle(next_due=None)}
    assert quiet_until(bodies, None) == later
    assert quiet_until(bodies, soon) == soon
    assert quiet_until({**bodies, "bhxh": idle(next_due="now")}, None) is None
    assert quiet_until({"cutru": idle(next_due=None)}, None) is None
