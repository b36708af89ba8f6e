"""An agency in a simulated outage takes in what reached it before the outage began, and leaves
the rest unread until the outage ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from simulation.faults.outage import before_outage

OPENS = datetime(2024, 1, 10, 19, 12, tzinfo=VN_TZ)


@dataclass(frozen=True)
class Record:
    offset: int
    at: datetime | None


def received(r: Record) -> datetime | None:
    return r.at


def test_handoffs_sent_before_an_outage_are_not_left_unread_through_it() -> None:
    """Regression: a portal trailing by a second when its outage began left results sent ten sim
    hours earlier unread for the whole outage; they reached it a sim day late."""
    early = [Record(0, OPENS - timedelta(hours=10)), Record(1, OPENS - timedelta(minutes=1))]
    late = [Record(2, OPENS), Record(3, OPENS - timedelta(hours=1))]  # the second waits behind the first
    other = [Record(7, None), Record(8, OPENS + timedelta(hours=2))]  # a command passes; a handoff waits
    kept, stop = before_outage({"p0": early + late, "p1": other}, OPENS, received)
    assert kept == [*early, other[0]]
    assert stop == {"p0": 2, "p1": 8}


def test_nothing_is_held_when_everything_came_before_the_outage() -> None:
    records = [Record(i, OPENS - timedelta(minutes=5 - i)) for i in range(3)]
    kept, stop = before_outage({"p0": records}, OPENS, received)
    assert kept == records
    assert stop == {}
