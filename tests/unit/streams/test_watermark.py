"""The event-time watermark: judged times move one tick at a time, however marks interleave, so a
deadline is judged at most one tick after it passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.clock import VN_TZ
from streams.watermark import MAX_CATCH_UP, Grid, Watermark

ORIGIN = datetime(2024, 1, 1, tzinfo=VN_TZ)
STEP = timedelta(seconds=7500)
LAG = timedelta(seconds=60000)
GRID = Grid(ORIGIN, STEP)


def test_grid_points_are_the_ticks_passed_oldest_first() -> None:
    assert GRID.points(None, ORIGIN + STEP * 3.5) == [ORIGIN + STEP * 3]
    assert GRID.points(ORIGIN + STEP * 3, ORIGIN + STEP * 3.9) == []
    assert GRID.points(ORIGIN + STEP * 3, ORIGIN + STEP * 6.1) == [ORIGIN + STEP * k for k in (4, 5, 6)]


def test_a_long_stall_writes_only_the_newest_points() -> None:
    points = GRID.points(ORIGIN, ORIGIN + STEP * (MAX_CATCH_UP + 100))
    assert len(points) == MAX_CATCH_UP
    assert points[-1] == ORIGIN + STEP * (MAX_CATCH_UP + 100)
    assert GRID.points(ORIGIN, ORIGIN + STEP * 120) == [ORIGIN + STEP * k for k in range(1, 121)]


def test_nothing_is_judged_until_every_partition_answered() -> None:
    w = Watermark(2, LAG, GRID)
    assert w.observe(0, ORIGIN + STEP) is None
    assert w.judged is None
    assert w.observe(1, ORIGIN + STEP) == ORIGIN + STEP - LAG


def test_an_old_mark_read_again_moves_nothing() -> None:
    w = Watermark(1, LAG, GRID)
    assert w.observe(0, ORIGIN + STEP * 2) == ORIGIN + STEP * 2 - LAG
    assert w.observe(0, ORIGIN + STEP) is None
    assert w.judged == ORIGIN + STEP * 2 - LAG


def test_the_first_judged_time_after_a_deadline_lies_on_the_grid() -> None:
    w = Watermark(1, LAG, GRID)
    due = ORIGIN + STEP * 20 + timedelta(seconds=1)
    first = w.first_judged_after(due)
    assert due <= first < due + STEP
    assert (first + LAG - ORIGIN) % STEP == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(
    partitions=st.integers(1, 4),
    ticks=st.integers(2, 30),
    order=st.randoms(use_true_random=False),
    due_s=st.integers(0, 30 * 7500),
)
def test_judged_times_advance_one_tick_at_a_time_however_partitions_interleave(
    partitions: int, ticks: int, order: object, due_s: int
) -> None:
    """Each partition reads its marks in order; across partitions any interleaving. The judged
    times then form the grid itself, so a deadline is judged within one tick of passing."""
    queues = {p: [ORIGIN + STEP * k for k in range(ticks)] for p in range(partitions)}
    w = Watermark(partitions, LAG, GRID)
    judged: list[datetime] = []
    while any(queues.values()):
        p = order.choice([p for p, q in queues.items() if q])  # type: ignore[attr-defined]
        moved = w.observe(p, queues[p].pop(0))
        if moved is not None:
            judged.append(moved)
    assert judged == [ORIGIN + STEP * k - LAG for k in range(ticks)]
    due = judged[0] + timedelta(seconds=due_s)
    if due <= judged[-1]:
        first = next(j for j in judged if j >= due)
        assert first - due < STEP
