"""Messages an agency cannot use go to the dead-letter topic with the reason; nothing is lost and
the agency carries on.

The letter on the topic is masked (contracts/deadletters.py); the original is kept in the
agency's own `dead_letters` table (runtime/deadletters.py), in the same transaction, for a
replay once the cause is fixed."""

from __future__ import annotations

import uuid

import structlog

from contracts import topics
from contracts.deadletters import letter
from contracts.identity import mask_ids_in_text
from runtime.conn import Conn
from runtime.deadletters import DeadLetterStore, Kept, Refusal
from runtime.outbox import OutboxStore

log = structlog.get_logger()


async def dead_letter(
    conn: Conn, store: OutboxStore, kept: DeadLetterStore, agency: str, prefix: str, refused: list[Refusal]
) -> list[str]:
    """Keep each refused message and queue its masked letter on the dead-letter topic, in the
    agency's outbox: in the same transaction as the batch it was refused from. Returns the
    letters' ids."""
    letters = [letter(agency, r.topic, r.partition, r.offset, r.key, r.value, r.reason) for r in refused]
    for r, lt in zip(refused, letters, strict=True):
        log.warning(
            "message refused", topic=r.topic, offset=r.offset, reason=mask_ids_in_text(r.reason), letter=lt.letter_id
        )
    await kept.keep(
        conn,
        [Kept.of(r, lt.letter_id) for r, lt in zip(refused, letters, strict=True)],
    )
    await store.queue(
        conn,
        [
            (uuid.UUID(lt.letter_id), None, topics.dead_letter(prefix), r.key, lt.to_json())
            for r, lt in zip(refused, letters, strict=True)
        ],
    )
    return [lt.letter_id for lt in letters]
