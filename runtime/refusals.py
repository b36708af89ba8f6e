"""Messages an agency cannot use go to the dead-letter topic with the reason; nothing is lost and
the agency carries on."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import structlog

from contracts import topics
from runtime.outbox import OutboxStore, Record

log = structlog.get_logger()


@dataclass(frozen=True)
class Refusal:
    """A message the agency cannot use, on its way to the dead-letter topic."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes | None
    reason: str


async def dead_letter(conn: Any, store: OutboxStore, agency: str, prefix: str, refused: list[Refusal]) -> None:
    """Queue each refused message on the dead-letter topic, with where it came from and why, in
    the agency's outbox: in the same transaction as the batch it was refused from."""
    letters: list[Record] = []
    for r in refused:
        log.warning("message refused", topic=r.topic, offset=r.offset, reason=r.reason)
        body = {
            "agency": agency,
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "key": r.key.decode(errors="replace") if r.key else None,
            "value": r.value.decode(errors="replace") if r.value else None,
            "reason": r.reason,
        }
        letters.append(
            (
                uuid.uuid4(),
                None,
                topics.dead_letter(prefix),
                r.key,
                json.dumps(body, ensure_ascii=False).encode(),
            )
        )
    await store.queue(conn, letters)
