"""Primers: one message at offset 0 of every partition of topics the embedded broker holds empty.

Tansu's memory storage fails the first batch of an empty partition when several producers write
it at once (`AlreadyExists` on offset 0): the batch is lost, and an agency's first heartbeats or
handoffs with it. So whenever the embedded broker's topics start empty (a new simulation, a broker
restart), one producer writes each partition's first message before anything else runs. Every
consumer skips a message carrying `PRIMER_HEADER` (the contract's rule "primer")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from contracts import topics
from contracts.envelope import new_event
from contracts.event_types import CLOCK_MARK
from contracts.topics import PRIMER_HEADER
from runtime.kafka import plain_producer


def primer_value(prefix: str, epoch: datetime) -> Callable[[str, int], bytes]:
    """What a primer holds: on the event topic a clock mark at the simulation's epoch (the monitor
    reads it, and it moves nothing), elsewhere an empty object."""
    events = topics.dossier_events(prefix)

    def value(topic: str, partition: int) -> bytes:
        if topic != events:
            return b"{}"
        mark = new_event(CLOCK_MARK, "monitor", epoch, dossier_id=None, chain=None, payload={"partition": partition})
        return mark.to_json()

    return value


async def prime(bootstrap: str, names: Iterable[str], partitions: int, value: Callable[[str, int], bytes]) -> int:
    """Write one primer to every partition of the topics, one at a time; how many were written."""
    producer = plain_producer(bootstrap, "lienthong-primer", idempotent=False)
    await producer.start()
    written = 0
    try:
        for name in names:
            for partition in range(partitions):
                await producer.send_and_wait(
                    name, value(name, partition), partition=partition, headers=[(PRIMER_HEADER, b"1")]
                )
                written += 1
    finally:
        await producer.stop()
    return written
