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
from runtime.conn import Conn
from runtime.outbox import OutboxStore

ANSWERS = uuid.UUID("5b7c3d0e-1c4a-4f7e-9d55-0a2f6c1e8b31")
"""Namespace of the answers' event ids (uuid5 of the command id and the agency)."""


def is_command(record: ConsumerRecord[Any, Any]) -> bool:
    return any(k == COMMAND_HEADER for k, _ in record.headers or ())


async def republish(conn: Conn, store: OutboxStore, command: Republish, prefix: str) -> Done:
    """Queue the selected messages of this agency's outbox again; returns the answer (not yet sent)."""
    work = [topics.work(a, prefix) for a in topics.AGENCIES]
    missing: tuple[str, ...] = ()
    if command.messages is not None:
        wanted = [(uuid.UUID(m.event_id), m.topic) for m in command.messages]
        queued = await store.requeue_messages(conn, wanted)
        held = await store.holds(conn, [w for w, _ in wanted])
        missing = tuple(str(w) for w, _ in wanted if w not in held)
    elif command.dossier_id is not None:
        queued = await store.requeue_dossier(conn, command.dossier_id, work)
    elif command.sent_since is not None:
        chosen = list(command.topics) if command.topics is not None else work
        queued = await store.requeue_sent_since(conn, chosen, command.sent_since)
    else:  # Republish refuses to be built without one of the three
        raise ValueError(f"republish {command.command_id} selects nothing")
    return Done(command_id=command.command_id, agency=command.agency, queued=queued, missing=missing)


async def answer(conn: Conn, store: OutboxStore, done: Done, prefix: str) -> None:
    """Queue the answer in this agency's outbox (inside the command's transaction)."""
    event_id = uuid.uuid5(ANSWERS, f"{done.command_id}:{done.agency}")
    key = done.command_id.encode()
    await store.queue(conn, [(event_id, None, topics.admin_replies(prefix), key, done.to_json())])
