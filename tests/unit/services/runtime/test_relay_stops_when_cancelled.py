"""An agency's outbox relay stops when it is cancelled, whenever the cancellation comes. It waited
for its wake with `asyncio.wait_for`, which on Python 3.11 returns the result and drops the
cancellation when the awaited event fires in the same turn of the loop (CPython gh-86296): the
relay then ran on, and an agency asked to stop never stopped (a 600 s hang in teardown, seen once
in `make test`). It now waits under `asyncio.timeout`. The race is made here on purpose: the wake
is set, the loop turns 0 to 3 times, then the cancel."""

from __future__ import annotations

import asyncio

import pytest

from runtime.relay import OutboxRelay


async def _nothing() -> int:
    return 0


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_a_relay_cancelled_as_it_wakes_stops(turns: int) -> None:
    relay = OutboxRelay(pool=None, store=None, publisher=None)  # type: ignore[arg-type]
    relay.publish_once = _nothing  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run(idle_s=60, coalesce_s=0))
    for _ in range(3):
        await asyncio.sleep(0)  # the relay waits for its wake
    relay.wake()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=1)
    still = not done
    if still:  # ask again, so the test leaves nothing running behind it
        task.cancel()
        await asyncio.wait([task], timeout=1)
    assert not still, f"the relay ran on after its cancellation ({turns} turns after the wake)"
    assert task.cancelled()
