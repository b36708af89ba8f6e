"""Keeps each dossier's timeline from the shared dossier-events topic, so the portal can show
the citizen where the dossier is across agencies."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import structlog

from contracts import topics
from contracts.envelope import parse_event
from contracts.errors import ContractError
from runtime.kafka import commit, consumer, is_primer

log = structlog.get_logger()


async def follow(pool: asyncpg.Pool, bootstrap: str, prefix: str) -> None:
    c = consumer(bootstrap, [topics.dossier_events(prefix)], f"{prefix}.portal.timeline", "portal-timeline")
    await c.start()
    try:
        while True:
            batches = await c.getmany(timeout_ms=500, max_records=1000)
            rows: list[tuple[Any, ...]] = []
            for record in (r for rs in batches.values() for r in rs if not is_primer(r.headers)):
                try:
                    e = parse_event(record.value)
                except ContractError as exc:
                    # Agencies dead-letter their own input; here an invalid lifecycle event is
                    # only skipped from the timeline (the monitor reports it as data quality).
                    log.warning("invalid lifecycle event skipped", offset=record.offset, reason=str(exc))
                    continue
                if e.dossier_id is None:
                    continue
                rows.append(
                    (
                        uuid.UUID(e.event_id),
                        e.dossier_id,
                        e.type,
                        e.agency,
                        e.step,
                        e.occurred_at,
                        json.dumps(e.payload, ensure_ascii=False),
                        e.chain,
                    )
                )
            if rows:
                async with pool.acquire() as conn:
                    # One statement for the batch: it shares the portal's one core with the API.
                    await conn.execute(
                        "INSERT INTO portal.timeline (event_id, dossier_id, type, agency, step, occurred_at, payload, "
                        "chain) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], "
                        "$6::timestamptz[], $7::jsonb[], $8::text[]) ON CONFLICT (event_id) DO NOTHING",
                        *(list(c) for c in zip(*rows, strict=True)),
                    )
            if batches:
                await commit(c)
    finally:
        await c.stop()
