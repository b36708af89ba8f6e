"""PostgreSQL adapter: pools, and the inbox/outbox tables every agency schema has."""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

log = structlog.get_logger()

DB_LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
"""Errors after which the whole batch retries on a fresh connection; nothing is lost."""
DB_RETRY_S = 0.5
"""Pause before a batch whose connection was lost is tried again (the pool opens a new one)."""

RUNTIME_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.inbox (
    event_id    uuid PRIMARY KEY,
    dossier_id  text,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
-- Every message the agency produced, kept (redrive publishes from here again); append-only, so
-- the hot path never rewrites a wide row. What is still to publish is the narrow pending queue.
CREATE TABLE IF NOT EXISTS {s}.outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL,
    dossier_id    text,
    topic         text NOT NULL,
    key           bytea,
    value         bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, topic)
);
CREATE INDEX IF NOT EXISTS outbox_dossier ON {s}.outbox (dossier_id);
CREATE TABLE IF NOT EXISTS {s}.outbox_pending (
    seq        bigserial PRIMARY KEY,
    id         bigint NOT NULL,
    release_at timestamptz
);
-- When the broker acknowledged each publication (narrow, append-only, no index: read only when
-- the embedded broker lost its log, to publish again what it held and nothing a fault dropped).
CREATE TABLE IF NOT EXISTS {s}.outbox_sent (
    id bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Steps in progress: the handoff as received and its planned milestones in sim time.
CREATE TABLE IF NOT EXISTS {s}.tasks (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    dossier_id  text NOT NULL,
    message     bytea NOT NULL,
    received_at timestamptz NOT NULL,
    deadline    timestamptz NOT NULL,
    plan        jsonb NOT NULL,
    next_idx    integer NOT NULL,
    next_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_due ON {s}.tasks (next_at);
-- Each desk's register of who took up which dossier when: each officer's promised work
-- (runtime/officers.py).
CREATE TABLE IF NOT EXISTS {s}.queue_log (
    event_id    uuid PRIMARY KEY,
    dossier_id  text NOT NULL,
    desk        text NOT NULL,
    unit        text NOT NULL,
    officer     integer NOT NULL,
    received_at timestamptz NOT NULL,
    taken_at    timestamptz NOT NULL,
    released_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_log_busy ON {s}.queue_log (desk, unit, released_at);
-- What the agency refused, as it came, for a replay once the cause is fixed (runtime/deadletters.py);
-- the dead-letter topic carries only a masked copy. A refused step keeps its task (`task`).
CREATE TABLE IF NOT EXISTS {s}.dead_letters (
    letter_id   uuid PRIMARY KEY,
    topic       text NOT NULL,
    part        integer,
    "offset"    bigint,
    key         bytea,
    value       bytea,
    reason      text NOT NULL,
    task        jsonb,
    kept_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
"""


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """No reset when a connection returns to the pool: nothing here leaves session state behind
    (advisory locks are transaction-scoped, no LISTEN, no cursors), and the default reset costs a
    round trip on every release."""


async def create_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, attempts: int = 50, name: str = "lienthong"
) -> asyncpg.Pool:
    """A pool, retrying while the server comes up (supervised restarts race the database).
    `name` is the connections' application_name: operators (and the fault injector) see whose
    connections are whose."""
    for attempt in range(1, attempts + 1):
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                command_timeout=60,
                reset=_keep_session,
                server_settings={"application_name": name},
            )
            assert pool is not None
            return pool
        except (OSError, asyncpg.PostgresError) as exc:
            if attempt == attempts:
                raise
            log.warning("database not ready, retrying", attempt=attempt, error=str(exc))
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise AssertionError("unreachable")


async def apply_schema(pool: asyncpg.Pool, schema: str, ddl: str = "") -> None:
    """Create the agency's schema, its inbox/outbox and its own tables, once, under a lock."""
    async with pool.acquire() as conn, conn.transaction():
        # Replicas of one agency start together; the lock keeps their DDL from racing.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"lienthong.schema.{schema}")
        await conn.execute(RUNTIME_DDL.format(s=schema))
        if ddl:
            await conn.execute(ddl.format(s=schema))


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind `admin_url` if it does not exist."""
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
