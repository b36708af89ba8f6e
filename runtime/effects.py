"""Effects that must happen once per person (a payment, a benefit decision), whatever arrives twice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from runtime.conn import Conn
from runtime.work import Completed, Outcome, Rejected, WorkItem


async def record_once(
    conn: Conn, item: WorkItem, table: str, personal_id: str, values: Mapping[str, Any], what: str
) -> Outcome:
    """Insert the effect (`values`, plus dossier, person and source event) into `table`, whose
    dossier_id and personal_id are unique. A redelivery for the same dossier gets the earlier
    row back; another dossier for the same person is refused as a duplicate."""
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(3, len(values) + 3))
    row = await conn.fetchrow(
        f"INSERT INTO {table} (dossier_id, personal_id, {columns}, source_event_id) "
        f"VALUES ($1, $2, {params}, ${len(values) + 3}) ON CONFLICT DO NOTHING RETURNING {columns}",
        item.dossier_id,
        personal_id,
        *values.values(),
        uuid.UUID(item.event.event_id),
    )
    if row is None:
        row = await conn.fetchrow(
            f"SELECT dossier_id, {columns} FROM {table} WHERE personal_id = $1 OR dossier_id = $2",
            personal_id,
            item.dossier_id,
        )
        if row is None or row["dossier_id"] != item.dossier_id:
            return Rejected(f"{what} was already granted for this person", "duplicate")
    return Completed({k: row[k] for k in values if not hasattr(row[k], "isoformat")})
