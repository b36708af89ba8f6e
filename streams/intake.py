"""What a batch read from the dossier-events topic becomes before the monitor folds it in: the
events that parse (the rest dead-lettered), and of the rows stored, those this worker has not
folded in yet."""

from __future__ import annotations

import structlog

from contracts import topics
from contracts.deadletters import Letter, letter
from contracts.envelope import Event, parse_event
from contracts.errors import ContractError
from runtime.kafka import AIOKafkaPublisher
from streams import store

log = structlog.get_logger()


def fresh(stored: list[store.Row], redelivered: list[store.Row], folded: dict[int, int]) -> list[store.Row]:
    """The rows a worker has not folded in yet: every row stored now, and a row stored before
    (by the previous owner of its partition) only past the highest offset `folded` in for its
    partition. Moves `folded` past every row read, so a re-read is never applied twice."""
    news = [*stored, *((e, p, o) for e, p, o in redelivered if o > folded.get(p, o))]
    for _, p, o in [*stored, *redelivered]:
        if p in folded and o > folded[p]:
            folded[p] = o
    return news


async def parse_batch(
    batch: list[tuple[bytes, int, int]], prefix: str, publisher: AIOKafkaPublisher | None
) -> list[tuple[Event, int, int]]:
    """The batch's events; what does not parse is dead-lettered (before the batch is folded in
    and its offsets committed: a crash in between letters twice, never zero times)."""
    parsed: list[tuple[Event, int, int]] = []
    refused: list[Letter] = []
    topic = topics.dossier_events(prefix)
    for raw, partition, offset in batch:
        try:
            parsed.append((parse_event(raw), partition, offset))
        except ContractError as exc:
            # The monitor keeps no original: its producer fixes the event and publishes it again.
            refused.append(letter("monitor", topic, partition, offset, None, raw, str(exc), replayable=False))
            reason = refused[-1].reason
            log.warning("invalid lifecycle event refused", partition=partition, offset=offset, reason=reason)
    if refused and publisher is not None:
        for lt in refused:
            await publisher.publish(topics.dead_letter(prefix), None, lt.to_json())
    return parsed
