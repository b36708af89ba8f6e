"""The portal's read API for the other floors: the operator's tools and the harness ask here, so
that only the portal's own package writes SQL on its tables (tests/unit/test_table_owners.py)."""

from __future__ import annotations

from runtime.conn import Conn


async def in_progress(conn: Conn) -> list[str]:
    """The accepted dossiers the portal has not settled (no result returned, none refused yet)."""
    if not await conn.fetchval("SELECT to_regclass('portal.dossiers') IS NOT NULL"):
        return []
    return [
        r["dossier_id"] for r in await conn.fetch("SELECT dossier_id FROM portal.dossiers WHERE status = 'in_progress'")
    ]
