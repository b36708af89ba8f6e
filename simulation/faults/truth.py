"""Ground truth: every fault the simulator injected, per dossier, link or agency, in its own
schema (`sim`). Written in the same transaction as the effect it records; read only by the scorer
(simulation/scoring/score.py), never by the monitor.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts.alerts import Effect
from runtime.conn import Conn, Row
from simulation.faults.inject import Hit

SCHEMA = "sim"
DDL = """
CREATE SCHEMA IF NOT EXISTS sim;
CREATE TABLE IF NOT EXISTS sim.faults (
    id          bigserial PRIMARY KEY,
    fault       text NOT NULL,
    effect      text NOT NULL,
    subject     text NOT NULL,
    dossier_id  text,
    event_id    uuid,
    at          timestamptz NOT NULL,
    until       timestamptz,
    deadline    timestamptz,
    state       text,
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS faults_dossier ON sim.faults (dossier_id);
"""


async def apply_schema(conn: Conn) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('lienthong.schema.sim'))")
        await conn.execute(DDL)


async def record(conn: Conn, hits: Iterable[tuple[str | None, str | None, Hit]]) -> None:
    """Store (dossier id, event id, hit) rows, inside the caller's transaction: a hit whose effect
    rolls back is not recorded either."""
    rows = [
        (
            h.fault,
            h.effect,
            h.subject,
            dossier_id,
            uuid.UUID(event_id) if event_id else None,
            h.at,
            h.until,
            h.deadline,
            h.state,
            h.detail,
        )
        for dossier_id, event_id, h in hits
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO sim.faults (fault, effect, subject, dossier_id, event_id, at, until, deadline, state, detail) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            rows,
        )


@dataclass(frozen=True)
class Fact:
    """One recorded fact of the ground truth: what a fault did (or what the harness measured at
    a process fault), to what, and when."""

    fault: str
    effect: Effect
    subject: str
    """`link:hotich->cutru`, `step:hotich/register_birth`, `agency:bhxh`, `process:broker`, `dossier`…"""
    dossier_id: str | None
    at: datetime
    until: datetime | None = None
    deadline: datetime | None = None
    state: str | None = None
    event_id: str | None = None
    detail: str = ""

    @classmethod
    def of(cls, row: Row) -> Fact:
        event_id = row["event_id"]
        return cls(
            fault=row["fault"],
            effect=Effect(row["effect"]),
            subject=row["subject"],
            dossier_id=row["dossier_id"],
            at=row["at"],
            until=row["until"],
            deadline=row["deadline"],
            state=row["state"],
            event_id=str(event_id) if event_id is not None else None,
            detail=row["detail"] or "",
        )


async def read(conn: Conn) -> list[Fact]:
    if not await conn.fetchval("SELECT to_regclass('sim.faults') IS NOT NULL"):
        return []
    return [Fact.of(r) for r in await conn.fetch("SELECT * FROM sim.faults ORDER BY at, id")]
