"""The crash replay asks what the monitor has not stored only once the monitor has stored what it
had read (simulation/faults/broker.py: `until_still`, behind `monitor_settled`). Time is a fake clock
here: the reads, not the machine's speed, decide when it returns."""

from __future__ import annotations

from simulation.faults.broker import until_still


class Fake:
    """A monitor storing a batch per read until it has stored `batches`, on a clock that moves
    only when the wait sleeps."""

    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.stored = 0
        self.now = 0.0
        self.reads = 0

    async def count(self) -> int:
        self.reads += 1
        self.stored = min(self.batches, self.stored + 1)
        return self.stored

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_crash_replay_waits_for_the_monitor_to_store_what_it_had_read() -> None:
    """Regression: the replay asked what the monitor had not stored while the monitor still held
    events it had read; those were sent again and read as duplicate deliveries (498 in a month)."""
    fake = Fake(batches=12)
    assert await until_still(fake.count, 0.5, 60.0, clock=lambda: fake.now, sleep=fake.sleep)
    assert fake.stored == 12
    assert fake.reads == 13  # the twelfth batch, then one read that agreed with it


async def test_a_monitor_still_storing_at_the_timeout_is_reported_not_waited_for() -> None:
    fake = Fake(batches=1000)
    assert not await until_still(fake.count, 0.5, 10.0, clock=lambda: fake.now, sleep=fake.sleep)
    assert fake.now == 10.0
    assert fake.stored < 1000
