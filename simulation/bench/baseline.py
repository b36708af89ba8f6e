"""The bare baseline the portal's capacity is compared with (`python -m simulation.bench.baseline
PORT DATABASE_URL`): a minimal aiohttp handler that parses the JSON body and makes the same kind
of durable write in one transaction (the dossier row and its outbox row), then answers 202."""

from __future__ import annotations

import json
import sys
import uuid

import asyncpg
from aiohttp import web

DDL = """
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.dossiers, bench.outbox;
CREATE TABLE bench.dossiers (dossier_id uuid PRIMARY KEY, data jsonb NOT NULL, created_at timestamptz DEFAULT now());
CREATE TABLE bench.outbox (id bigserial PRIMARY KEY, dossier_id uuid NOT NULL, value jsonb NOT NULL);
"""


def build(url: str) -> web.Application:
    app = web.Application()

    async def startup(app: web.Application) -> None:
        pool = await asyncpg.create_pool(url, min_size=4, max_size=10)
        async with pool.acquire() as conn:
            await conn.execute(DDL)
        app["pool"] = pool

    async def cleanup(app: web.Application) -> None:
        await app["pool"].close()

    async def submit(request: web.Request) -> web.Response:
        body = await request.json()
        dossier_id = uuid.uuid4()
        data = json.dumps(body, ensure_ascii=False)
        async with request.app["pool"].acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO bench.dossiers (dossier_id, data) VALUES ($1, $2)", dossier_id, data)
            await conn.execute("INSERT INTO bench.outbox (dossier_id, value) VALUES ($1, $2)", dossier_id, data)
        return web.json_response({"dossier_id": str(dossier_id)}, status=202)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ready": True})

    app.add_routes([web.post("/api/v1/dossiers", submit), web.get("/healthz", healthz)])
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app


if __name__ == "__main__":
    web.run_app(build(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
