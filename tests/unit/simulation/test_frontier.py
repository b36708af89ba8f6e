"""What the workload still owes a governed clock (simulation/workload/frontier.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from simulation.workload.frontier import Frontier

T0 = datetime(2024, 1, 13, 9, 0, tzinfo=VN_TZ)


@dataclass(frozen=True)
class Sub:
    at: datetime


def test_a_copy_waiting_for_its_deferred_original_is_owed_no_earlier_than_the_original() -> None:
    """Regression: the portal was in an outage; the original was deferred to the outage's end,
    and a copy planned inside the outage waited for it. The copy, owed at its own planned time,
    kept sim time a window short of the outage's end, where the original waited: the run hung."""
    original, copy = Sub(T0), Sub(T0 + timedelta(hours=3))
    frontier = Frontier([original, copy])
    taken = frontier.take()
    assert next(taken) is original
    reopens = T0 + timedelta(hours=24)
    frontier.waits_until(original, reopens)
    assert next(taken) is copy
    assert frontier.through() == T0 + timedelta(hours=3)  # the copy, before it knows to wait
    frontier.waits_for(copy, original)
    assert frontier.through() == reopens
    frontier.answered(original)
    assert frontier.through() == T0 + timedelta(hours=3)  # posted now, owed from its own time
    frontier.answered(copy)
    assert frontier.through() is None
