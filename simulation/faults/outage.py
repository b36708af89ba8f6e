"""An agency's consumer through a simulated outage: what was handed to it before the outage
began it received then (it is taken in and worked on now, however far the process trails); what
reaches it during the outage waits, unread, until it ends.

Without this split, a process trailing by a second when an outage began would leave that
second's handoffs unread for the whole outage and receive them a sim day late, and the monitor
would rightly call them lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

Partition = TypeVar("Partition")


def before_outage(
    batches: Mapping[Partition, Sequence[Any]],
    opens: datetime,
    received_at: Callable[[Any], datetime | None],
) -> tuple[list[Any], dict[Partition, int]]:
    """The records received (in the model) before `opens`, in order, and for each partition
    where a record came at or after it, that record's offset: the partition is read again from
    there once the outage ends. `received_at` gives a record's model reception time, or None for
    one that is not a handoff (a command, a malformed message): those go through at once."""
    take: list[Any] = []
    stop: dict[Partition, int] = {}
    for tp, records in batches.items():
        for r in records:
            at = received_at(r)
            if at is not None and at >= opens:
                stop[tp] = r.offset
                break
            take.append(r)
    return take, stop
