"""The console's live feed: server-sent events, one `alert` for each alert raised, resolved or
acknowledged (framing, keep-alive pings and Last-Event-ID by aiohttp-sse)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from dashboard.actions import dumps
from streams import queries

FEED_POLL_S = 1.0
FEED_PING_S = 15.0
"""A comment line this often keeps proxies and the browser from closing a quiet feed."""
FEED_OVERLAP_S = 10.0
"""The feed re-reads changes this far back: a change is stamped inside the monitor's transaction,
which commits a little later."""
FEED_BACKLOG = 50
"""A new subscriber gets the newest this many alerts first."""


class Feed:
    def __init__(self, ready: Callable[[], Awaitable[bool]], pool: Callable[[], Any]) -> None:
        self.ready = ready
        """Whether the monitor's tables exist yet."""
        self.pool = pool
        """The console's connection pool, once it started (None before)."""

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `alert` for each alert raised, resolved or acknowledged (framing,
        keep-alive pings and Last-Event-ID by aiohttp-sse)."""
        async with sse_response(request, ping_interval=FEED_PING_S, sep="\n") as resp:
            given = resp.last_event_id or request.query.get("after")
            try:
                last_id = int(given) if given else await self._recent_start()
            except ValueError:
                last_id = 0
            since: datetime | None = None
            sent: dict[int, tuple[Any, ...]] = {}
            first = True
            while resp.is_connected():
                pool = self.pool()
                if pool is not None and await self.ready():
                    async with pool.acquire() as conn:
                        now = await conn.fetchval(
                            "SELECT clock_timestamp() - make_interval(secs => $1)", FEED_OVERLAP_S
                        )
                        rows = await queries.alert_changes(conn, last_id, since)
                    since = now
                    for a in rows:
                        version = (a.get("resolved_at"), a.get("acknowledged_at"))
                        if sent.get(a["id"]) == version:
                            continue
                        sent[a["id"]] = version
                        last_id = max(last_id, a["id"])
                        public = {k: v for k, v in a.items() if k != "changed_at"}
                        await resp.send(dumps(public), id=str(last_id), event="alert", retry=2000 if first else None)
                        first = False
                await asyncio.sleep(FEED_POLL_S)
        return resp

    async def _recent_start(self) -> int:
        """A new subscriber gets the newest FEED_BACKLOG alerts first, not the whole history."""
        pool = self.pool()
        if pool is None or not await self.ready():
            return 0
        async with pool.acquire() as conn:
            newest = await queries.newest_alert_id(conn)
        return max(0, newest - FEED_BACKLOG)
