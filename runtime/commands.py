"""An agency carrying out admin commands on its own outbox (contracts/commands.py).

The command and its answer share one transaction: the selected rows are queued again and the
`Done` goes into the same outbox, so a crash after the commit still answers, and a command read
twice (a rebalance before the offsets were committed) queues its answer once (its id is derived
from the command's) while republishing again, which every inbox tolerates."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka.structs import ConsumerRecord

from contracts import topics
from contracts.commands import COMMAND_HEADER, Done, Republish
from runtime import outbox

ANSWERS = uuid.UUID("5b7c3d0e-1c4a-4f7e-9d55-0a2f6c1e8b31")
"""Namespace of the answers' event ids (uuid5 of the command id and the agency)."""


def is_command(record: ConsumerRecord[Any, Any]) -> bool:
    return any(k == COMMAND_HEADER for k, _ in record.headers or ())


def _queue(schema: str, where: str) -> str:
    """Queue again the outbox rows matching `where` (alias `o`), unless already waiting."""
    return (
        f"WITH q AS (INSERT INTO {schema}.outbox_pending (id) SELECT o.id FROM {schema}.outbox o "
        f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM {schema}.outbox_pending p WHERE p.id = o.id) "
        "ORDER BY o.id RETURNING id) SELECT q.id, o.event_id FROM q JOIN "
        f"{schema}.outbox o USING (id)"
    )


async def republish(conn: Any, schema: str, command: Republish, prefix: str) -> Done:
    """Queue the selected messages of this agency's outbox again; returns the answer (not yet sent)."""
    work = [topics.work(a, prefix) for a in topics.AGENCIES]
    missing: tuple[str, ...] = ()
    if command.messages is not None:
        wanted = [(uuid.UUID(m.event_id), m.topic) for m in command.messages]
        rows = await conn.fetch(
            _queue(
                schema,
                "EXISTS (SELECT 1 FROM unnest($1::uuid[], $2::text[]) AS w(event_id, topic) "
                "WHERE w.event_id = o.event_id AND (w.topic IS NULL OR w.topic = o.topic))",
            ),
            [w for w, _ in wanted],
            [t for _, t in wanted],
        )
        held = {
            r["event_id"]
            for r in await conn.fetch(
                f"SELECT event_id FROM {schema}.outbox WHERE event_id = ANY($1::uuid[])", [w for w, _ in wanted]
            )
        }
        missing = tuple(str(w) for w, _ in wanted if w not in held)
    elif command.dossier_id is not None:
        rows = await conn.fetch(
            _queue(schema, "o.dossier_id = $1 AND o.topic = ANY($2::text[])"), command.dossier_id, work
        )
    else:
        rows = await conn.fetch(
            _queue(
                schema,
                "o.topic = ANY($1::text[]) AND EXISTS (SELECT 1 FROM "
                f"{schema}.outbox_sent s WHERE s.id = o.id AND s.at >= to_timestamp($2))",
            ),
            list(command.topics) if command.topics is not None else work,
            command.sent_since,
        )
    return Done(command_id=command.command_id, agency=command.agency, queued=len(rows), missing=missing)


async def answer(conn: Any, schema: str, done: Done, prefix: str) -> None:
    """Queue the answer in this agency's outbox (inside the command's transaction)."""
    event_id = uuid.uuid5(ANSWERS, f"{done.command_id}:{done.agency}")
    key = done.command_id.encode()
    await outbox.add_raw(conn, schema, [(event_id, None, topics.admin_replies(prefix), key, done.to_json())])
