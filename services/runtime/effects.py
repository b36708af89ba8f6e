"""Effects that must happen once per person (a payment, a benefit decision), whatever arrives twice."""

from __future__ import annotations

from typing import Any


async def once(conn: Any, table: str, dossier_id: str, personal_id: str, insert: str, *values: Any) -> Any:
    """Run `insert` (parameters: dossier_id, personal_id, *values; `ON CONFLICT DO NOTHING
    RETURNING …`) and return its row. When the person already has the effect, return the earlier
    row if it belongs to this dossier (a redelivery), or None if another dossier got it first."""
    row = await conn.fetchrow(insert, dossier_id, personal_id, *values)
    if row is not None:
        return row
    earlier = await conn.fetchrow(
        f"SELECT * FROM {table} WHERE personal_id = $1 OR dossier_id = $2", personal_id, dossier_id
    )
    return earlier if earlier is not None and earlier["dossier_id"] == dossier_id else None
