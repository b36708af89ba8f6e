"""The ops dashboard: one page (static files, no CDN) over a JSON API on the monitor's tables.

Reading is open to whoever reaches the port (it binds 127.0.0.1); acknowledging an alert and
redriving a dossier change things, so they need the operator token as `Authorization: Bearer
<token>`: none gives 401, a wrong one 403, both with a JSON reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import structlog
from aiohttp import web
from aiohttp_sse import sse_response

from contracts.identity import mask_personal_id
from lienthong import redrive
from runtime.db import create_pool
from runtime.metrics import metrics_route
from runtime.settings import Settings
from streams import queries

REDRIVE_ANSWER_S = 15.0
"""How long a redrive request waits for the senders' answers: an officer waits at the button,
and a sender that answers later still republishes (the answer only reports the count)."""

log = structlog.get_logger()

FEED_POLL_S = 1.0
FEED_PING_S = 15.0
"""A comment line this often keeps proxies and the browser from closing a quiet feed."""
FEED_OVERLAP_S = 10.0
"""The feed re-reads changes this far back: a change is stamped inside the monitor's transaction,
which commits a little later."""
FEED_BACKLOG = 50
STATIC = resources.files("dashboard").joinpath("static")
KINDS = ("lost", "stuck", "link", "agency", "duplicate", "data_quality")


def operator_token(settings: Settings) -> str:
    """`LT_OPERATOR_TOKEN`, or the one kept in `$LT_HOME/operator-token` (made on first use)."""
    if settings.operator_token:
        return settings.operator_token
    path = token_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def token_path(settings: Settings) -> Path:
    return settings.home.resolve() / "operator-token"


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _dumps(o: Any) -> str:
    return json.dumps(o, ensure_ascii=False, default=str)


class Dashboard:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.token = operator_token(settings)
        self.pool: asyncpg.Pool | None = None
        self.chains = settings.chains()

    async def start(self) -> None:
        _, url = self.settings.require_infra()
        # The monitor's tables are the monitor's to create; until it has, every view answers empty.
        self.pool = await create_pool(url, max_size=4, name="dashboard")

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def _ready(self) -> bool:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"))

    def authorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return _problem(401, "operator token required: send `Authorization: Bearer <token>`")
        given = header.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return _problem(403, "operator token not accepted: viewers may read only")
        return None

    # ----- reads

    async def healthz(self, _request: web.Request) -> web.Response:
        try:
            ready = await self._ready()
        except (OSError, asyncpg.PostgresError):
            ready = False
        return web.json_response({"agency": "dashboard", "ready": True, "monitor_tables": ready})

    async def alerts(self, request: web.Request) -> web.Response:
        q = request.query
        kind = q.get("kind") or None
        if kind and kind not in KINDS:
            return _problem(400, f"kind must be one of {', '.join(KINDS)}")
        try:
            limit = min(int(q.get("limit", "500")), 5000)
        except ValueError:
            return _problem(400, "limit must be a number")
        if not await self._ready():
            return web.json_response({"alerts": [], "open_by_kind": {}, "now": self.now()})
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            rows = await queries.alerts(
                conn,
                only_open=q.get("open", "1") not in ("0", "false"),
                kind=kind,
                flow=q.get("flow") or None,
                agency=q.get("agency") or None,
                commune=q.get("commune") or None,
                limit=limit,
            )
            counts = await queries.alert_counts(conn)
        return web.json_response({"alerts": rows, "open_by_kind": counts, "now": self.now()}, dumps=_dumps)

    async def funnel(self, _request: web.Request) -> web.Response:
        return await self._read(lambda conn: queries.funnel(conn, self.chains), "flows")

    async def health(self, request: web.Request) -> web.Response:
        try:
            hours = float(request.query.get("hours", "24"))
        except ValueError:
            return _problem(400, "hours must be a number")
        body: dict[str, Any] = {"agencies": [], "links": []}
        if await self._ready():
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                body = await queries.health(conn, window_hours=hours)
        body["heartbeats"] = await self._heartbeats()
        return web.json_response(body, dumps=_dumps)

    async def series(self, _request: web.Request) -> web.Response:
        return await self._read(queries.series, "series")

    async def dossier(self, request: web.Request) -> web.Response:
        dossier_id = request.match_info["dossier_id"]
        if not await self._ready():
            return _problem(404, f"no dossier {dossier_id}")
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            found = await queries.timeline(conn, dossier_id)
        if found is None:
            return _problem(404, f"the monitor has no event of dossier {dossier_id}")
        return web.json_response(found, dumps=_dumps)

    async def search(self, request: web.Request) -> web.Response:
        """By dossier id, or by personal ID number (12 digits; the portal finds its dossiers and
        the answer shows the number masked)."""
        text = request.query.get("q", "").strip()
        if not text:
            return _problem(400, "q is required: a dossier id or a 12-digit personal ID number")
        # A dossier id's first group is 8 hex digits, which may all be decimal digits: up to 8
        # digits is an id prefix (a test run once picked such an id); more must be an ID number.
        if text.isdigit() and len(text) > 8:
            if len(text) != 12:
                return _problem(400, "a personal ID number has 12 digits")
            ids = await self._by_personal_id(text)
            return web.json_response({"query": mask_personal_id(text), "dossiers": ids}, dumps=_dumps)
        found = []
        if await self._ready():
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                found = await conn.fetch(
                    "SELECT DISTINCT dossier_id FROM monitor.events WHERE dossier_id LIKE $1 || '%' LIMIT 20", text
                )
        return web.json_response({"query": text, "dossiers": [r["dossier_id"] for r in found]})

    async def _by_personal_id(self, personal_id: str) -> list[str]:
        url = f"{self.settings.portal_url}/api/v1/dossiers"
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(url, params={"personal_id": personal_id}) as r,
        ):
            if r.status != 200:
                return []
            return [d["dossier_id"] for d in (await r.json())["dossiers"]]

    async def _heartbeats(self) -> dict[str, Any]:
        """The monitor's view of each agency's newest heartbeat (its /healthz)."""
        path = self.settings.home.resolve() / "services.json"
        spec = json.loads(path.read_text()) if path.exists() else {}
        port = spec.get("services", {}).get("monitor")
        if not port:
            return {}
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as r,
            ):
                body = await r.json(content_type=None)
                return dict(body.get("heartbeats") or {})
        return {}

    async def _read(self, fetch: Callable[[Any], Awaitable[Any]], key: str) -> web.Response:
        if not await self._ready():
            return web.json_response({key: []})
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return web.json_response({key: await fetch(conn)}, dumps=_dumps)

    def now(self) -> str:
        """The sim clock of the current run (a new run restarts the dashboard with its clock)."""
        return self.settings.clock().now().isoformat()

    async def feed(self, request: web.Request) -> web.StreamResponse:
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
                if await self._ready():
                    assert self.pool is not None
                    async with self.pool.acquire() as conn:
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
                        a.pop("changed_at", None)
                        await resp.send(_dumps(a), id=str(last_id), event="alert", retry=2000 if first else None)
                        first = False
                await asyncio.sleep(FEED_POLL_S)
        return resp

    async def _recent_start(self) -> int:
        """A new subscriber gets the newest FEED_BACKLOG alerts first, not the whole history."""
        if not await self._ready():
            return 0
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            newest = await conn.fetchval("SELECT coalesce(max(id), 0) FROM monitor.alerts")
        return max(0, int(newest) - FEED_BACKLOG)

    # ----- actions (operator token)

    async def acknowledge(self, request: web.Request) -> web.Response:
        refused = self.authorised(request)
        if refused:
            return refused
        try:
            alert_id = int(request.match_info["alert_id"])
        except ValueError:
            return _problem(400, "alert id must be a number")
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            row = await queries.acknowledge(conn, alert_id, "operator")
        if row is None:
            return _problem(404, f"no alert {alert_id}")
        log.info("alert acknowledged", alert_id=alert_id)
        return web.json_response(row, dumps=_dumps)

    async def redrive(self, request: web.Request) -> web.Response:
        refused = self.authorised(request)
        if refused:
            return refused
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _problem(400, 'body must be JSON: {"dossier_id": ...} or {"all_lost": true}')
        if not isinstance(body, dict) or not (body.get("dossier_id") or body.get("all_lost") is True):
            return _problem(400, 'give {"dossier_id": "..."} or {"all_lost": true}')
        assert self.pool is not None
        asker = redrive.Asker.of(self.settings, timeout_s=REDRIVE_ANSWER_S)
        if body.get("all_lost") is True:
            async with self.pool.acquire() as conn:
                alerts = await redrive.lost_alerts(conn)
            outcome = await redrive.redrive_alerts(asker, alerts)
        else:
            outcome = await redrive.redrive_dossier(asker, str(body["dossier_id"]))
        log.info("redrive requested", dossier_id=body.get("dossier_id"), all_lost=bool(body.get("all_lost")))
        return web.json_response(outcome.as_dict(), status=202, dumps=_dumps)

    # ----- page

    async def index(self, _request: web.Request) -> web.Response:
        return web.Response(text=STATIC.joinpath("index.html").read_text(encoding="utf-8"), content_type="text/html")

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self.index),
            # aiohttp's own static files: content types, caching headers, and no path escapes the folder.
            web.static("/static", Path(str(STATIC))),
            web.get("/healthz", self.healthz),
            web.get("/api/v1/alerts", self.alerts),
            web.get("/api/v1/alerts/stream", self.feed),
            web.post("/api/v1/alerts/{alert_id}/ack", self.acknowledge),
            web.get("/api/v1/funnel", self.funnel),
            web.get("/api/v1/health", self.health),
            web.get("/api/v1/series", self.series),
            web.get("/api/v1/search", self.search),
            web.get("/api/v1/dossiers/{dossier_id}", self.dossier),
            web.post("/api/v1/redrive", self.redrive),
            metrics_route(),
        ]


def build(settings: Settings) -> tuple[web.Application, Dashboard]:
    d = Dashboard(settings)
    app = web.Application()
    app.add_routes(d.routes())

    async def on_startup(_app: web.Application) -> None:
        await d.start()

    async def on_cleanup(_app: web.Application) -> None:
        await d.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app, d
