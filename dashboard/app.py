"""The ops console: one page (static files, no CDN) over a JSON API on the monitor's tables.

The work queue (`/api/v1/queue`, dashboard/workqueue.py) puts the most overdue incident first,
in Vietnamese; a dossier (`/api/v1/dossiers/{id}`) comes with its verdict line and its timeline
as sentences; the funnel counts steps finished, not started (streams/funnel.py). Ages are
measured at the clock's moment, which stands still once a run settled (ops/runclock.py).
Reading is open; the actions (dashboard/actions.py) need the operator token and a name.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from contracts.alerts import AlertKind
from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from dashboard import alerting, areas, deadline, desks, due, export, openapi, search, worklog, workqueue
from dashboard.actions import Actions, dumps, portal_people, problem
from dashboard.feed import Feed
from dashboard.shift import Shift
from dashboard.subscribe import Subscribe
from dashboard.wording import Words, at
from deploy.state import StackState
from ops import runclock
from runtime.conn import Conn
from runtime.db import create_pool
from runtime.edges import cap_body, refuse_nul
from runtime.metrics import metrics
from runtime.secrets import operator_token, submitter_headers
from runtime.settings import Settings
from streams import console, queries
from streams.funnel import FlowFunnel, funnel
from streams.rows import Health

log = structlog.get_logger()

STATIC = resources.files("dashboard").joinpath("static")
KINDS = tuple(AlertKind)
HEALTH_HOURS_MAX = 1_000_000
"""The widest health window asked of the event log (over a century of sim time; a test at high
speed asks for years): a finite bound PostgreSQL's intervals hold with room to spare."""


def day_start(text: str | None) -> datetime | None:
    """00:00 Vietnam time of a `YYYY-MM-DD` day; None for no day; ValueError for a bad one."""
    if not text:
        return None
    return datetime.combine(date.fromisoformat(text), time(0, 0), VN_TZ)


class Dashboard:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.token = operator_token(settings)
        self.pool: asyncpg.Pool | None = None
        self.chains = settings.chains()
        self.words = Words(self.chains)
        self.calendar = WorkingCalendar()
        self.clock = settings.clock()
        self.actions = Actions(settings, self.token, self.clock)
        self.shift = Shift(self.actions, self._queue_rows)
        self.subscribe = Subscribe(self.actions, settings.home.resolve())
        self._funnel_cache: tuple[tuple[int, datetime | None], list[FlowFunnel]] | None = None

    async def start(self) -> None:
        _, url = self.settings.require_infra()
        # The monitor's tables are the monitor's to create; until it has, every view answers empty.
        self.pool = await create_pool(url, max_size=4, name="dashboard")
        self.actions.pool = self.pool

    async def stop(self) -> None:
        await self.actions.stop()
        if self.pool is not None:
            await self.pool.close()

    async def _ready(self) -> bool:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return await queries.installed(conn)

    # ----- reads

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(openapi.document())

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
            return problem(400, f"kind phải là một trong {', '.join(KINDS)}")
        try:
            limit = int(q.get("limit", "500"))
        except ValueError:
            return problem(400, "limit phải là số")
        if not 1 <= limit <= 5000:
            return problem(400, "limit phải từ 1 đến 5000")
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
        return web.json_response({"alerts": rows, "open_by_kind": counts, "now": self.now()}, dumps=dumps)

    async def funnel(self, _request: web.Request) -> web.Response:
        return await self._read(self._funnel, "flows")

    async def _funnel(self, conn: Conn) -> list[FlowFunnel]:
        """The funnel, computed again only when the event log changed: it takes 0.67 s on the demo
        month and every open page asks for it every 10 s, mostly of a log that stands still."""
        key = await queries.event_log_version(conn)
        if self._funnel_cache is None or self._funnel_cache[0] != key:
            self._funnel_cache = (key, await funnel(conn, self.chains, self.calendar))
        return self._funnel_cache[1]

    def moment(self) -> tuple[datetime, dict[str, object]]:
        """The moment ages are measured at (the clock's; it stands still once a run settled), and
        the clock as the page shows it."""
        state = runclock.state(self.clock, self.settings.sim_clock_file)
        shown = state.as_dict()
        shown["text_vi"] = (
            f"Giờ mô phỏng: {at(state.sim_time)}"
            if state.running
            else f"Lượt chạy đã kết thúc lúc {at(state.stopped_at)} (giờ mô phỏng)"
        )
        return state.sim_time, shown

    async def clock_state(self, _request: web.Request) -> web.Response:
        return web.json_response(self.moment()[1], dumps=dumps)

    async def due(self, _request: web.Request) -> web.Response:
        """Đến hạn hôm nay / ngày mai (dashboard/due.py)."""
        now, _ = self.moment()
        pool = self.pool if await self._ready() else None
        return web.json_response(await due.due_soon(pool, self.calendar, now), dumps=dumps)

    async def desks(self, _request: web.Request) -> web.Response:
        """Chờ cán bộ tiếp nhận: dossiers received and not yet taken up, by step (dashboard/desks.py)."""
        now, _ = self.moment()
        pool = self.pool if await self._ready() else None
        return web.json_response({"desks": await desks.waiting(pool, self.chains, now)}, dumps=dumps)

    async def queue(self, request: web.Request) -> web.Response:
        """The work queue: one row per incident, most overdue first (dashboard/workqueue.py)."""
        try:
            q = workqueue.Query.parse(dict(request.query))
        except ValueError as exc:
            return problem(400, str(exc))
        now, clock = self.moment()
        rows = await self._queue_rows()
        communes: list[str] = []
        if await self._ready():
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                communes = await console.communes(conn)
        fmt = request.match_info.get("format")
        if fmt is not None:
            return export.response(fmt, workqueue.select(rows, replace(q, page=1, size=max(1, len(rows))))["rows"], now)
        return web.json_response({**workqueue.select(rows, q), "clock": clock, "communes": communes}, dumps=dumps)

    async def _queue_rows(self, only_open: bool = False) -> list[workqueue.QueueRow]:
        """Every incident (or only the open ones) as the queue shows it (with its assignee), most
        overdue first."""
        if not await self._ready():
            return []
        assert self.pool is not None
        now, _ = self.moment()
        async with self.pool.acquire() as conn:
            incidents = await console.incidents(conn, only_open=only_open)
            assigned = await worklog.assignees(conn)
        rows: list[workqueue.QueueRow] = [
            {**workqueue.row(self.words, self.calendar, r, now), "assignee": assigned.get(r["id"])} for r in incidents
        ]
        return list(workqueue.select(rows, workqueue.Query(state="all", size=max(1, len(rows))))["rows"])

    async def health(self, request: web.Request) -> web.Response:
        try:
            hours = float(request.query.get("hours", "24"))
        except ValueError:
            return problem(400, "hours phải là số (giờ mô phỏng)")
        if not (math.isfinite(hours) and 0 < hours <= HEALTH_HOURS_MAX):
            return problem(400, f"hours phải lớn hơn 0 và không quá {HEALTH_HOURS_MAX} (giờ mô phỏng)")
        found: Health | None = None
        if await self._ready():
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                found = await queries.health(conn, window_hours=hours)
        body = {**(found or {"agencies": [], "links": []}), "heartbeats": await self._heartbeats()}
        return web.json_response(body, dumps=dumps)

    async def series(self, request: web.Request) -> web.Response:
        """The daily charts, for `?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included, Vietnam
        time) or every day: the same range `lienthong report --from --to` counts."""
        try:
            start = day_start(request.query.get("from"))
            last = day_start(request.query.get("to"))
        except ValueError:
            return problem(400, "from và to là ngày dạng YYYY-MM-DD")
        end = last + timedelta(days=1) if last else None
        if start and end and end <= start:
            return problem(400, "to không được trước from")
        return await self._read(lambda conn: queries.series(conn, start, end), "series")

    async def dossier(self, request: web.Request) -> web.Response:
        """A dossier for the side panel: its code and state, the verdict line of each incident,
        the timeline as Vietnamese sentences in local time (ids kept for "chi tiết kỹ thuật")."""
        dossier_id = request.match_info["dossier_id"]
        found = None
        if await self._ready():
            assert self.pool is not None
            async with self.pool.acquire() as conn:
                found = await console.dossier(conn, dossier_id)
        if found is None:
            return problem(404, f"Giám sát chưa thấy sự kiện nào của hồ sơ {dossier_id}")
        now, clock = self.moment()
        incidents = [workqueue.row(self.words, self.calendar, a, now) for a in found["incidents"]]
        events = [deadline.panel_event(e, self.words) for e in found["events"]]
        deadline.mark_gaps(events)
        # Masked until an operator opens the dossier (POST …/open, audited).
        shown = await portal_people(self.settings, dossier_id, submitter_headers(self.settings))
        verdict = workqueue.headline(incidents)
        return web.json_response(
            {
                "dossier_id": dossier_id,
                "code": found["code"] or dossier_id[:8].upper(),
                "state_vi": self.words.state(events),
                "settled": any(e["type"] == "dossier.closed" for e in events),
                "deadline": deadline.deadline(events, self.calendar, now),
                "verdict_vi": verdict or "Không có sự cố",
                "events": events,
                "alerts": incidents,
                "people": shown["people"] if shown else [],
                "clock": clock,
            },
            dumps=dumps,
        )

    async def search(self, request: web.Request) -> web.Response:
        """By receipt code or dossier-id prefix, personal ID number or commune (dashboard/search.py)."""
        return await search.answer(request, self.settings, self.pool if await self._ready() else None)

    async def _heartbeats(self) -> dict[str, str]:
        """The monitor's view of each agency's newest heartbeat (its /healthz)."""
        port = StackState(self.settings.home.resolve()).ports().get("monitor")
        if not port:
            return {}
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as r,
            ):
                body = await r.json(content_type=None)
                beats = body.get("heartbeats") if isinstance(body, dict) else None
                return {str(k): str(v) for k, v in beats.items()} if isinstance(beats, dict) else {}
        return {}

    async def _read(self, fetch: Callable[[Any], Awaitable[Any]], key: str) -> web.Response:
        if not await self._ready():
            return web.json_response({key: []})
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return web.json_response({key: await fetch(conn)}, dumps=dumps)

    def now(self) -> str:
        """The moment ages are measured at (a new run restarts the dashboard with its clock)."""
        return self.moment()[0].isoformat()

    # ----- page

    async def metrics(self, request: web.Request) -> web.Response:
        """The process's metrics, with each open lost or stuck incident as a series (dashboard/alerting.py)."""
        # Only what is open can be a series: a scrape never reads the resolved history.
        alerting.export(await self._queue_rows(only_open=True))
        await self.subscribe.ensure()
        return await metrics(request)

    async def areas(self, request: web.Request) -> web.Response:
        """Totals by district and commune; with `?commune=`, that commune's overdue dossiers."""
        now, _ = self.moment()
        pool = self.pool if await self._ready() else None
        answer = await areas.answer(pool, self.calendar, now, request.query.get("commune", "").strip())
        return web.json_response(answer, dumps=dumps)

    async def index(self, _request: web.Request) -> web.Response:
        return web.Response(text=STATIC.joinpath("index.html").read_text(encoding="utf-8"), content_type="text/html")

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self.index),
            # aiohttp's own static files: content types, caching headers, and no path escapes the folder.
            web.static("/static", Path(str(STATIC))),
            web.get("/healthz", self.healthz),
            web.get("/api/v1/openapi.json", self.openapi),
            web.get("/api/v1/alerts", self.alerts),
            web.get("/api/v1/alerts/stream", Feed(self._ready, lambda: self.pool).stream),
            web.post("/api/v1/alerts/{alert_id}/ack", self.actions.acknowledge),
            web.get("/api/v1/due", self.due),
            web.get("/api/v1/desks", self.desks),
            web.get("/api/v1/areas", self.areas),
            web.get("/api/v1/queue", self.queue),
            web.get("/api/v1/queue.{format}", self.queue),
            web.get("/api/v1/clock", self.clock_state),
            web.get("/api/v1/whoami", self.actions.whoami),
            web.get("/api/v1/funnel", self.funnel),
            web.get("/api/v1/health", self.health),
            web.get("/api/v1/series", self.series),
            web.get("/api/v1/search", self.search),
            web.get("/api/v1/dossiers/{dossier_id}", self.dossier),
            web.post("/api/v1/redrive", self.actions.redrive),
            web.post("/api/v1/clock/resume", self.actions.resume_clock),
            web.post("/api/v1/dossiers/{dossier_id}/open", self.actions.open_dossier),
            *self.shift.routes(),
            *self.subscribe.routes(),
            web.get("/metrics", self.metrics),
        ]


def build(settings: Settings) -> tuple[web.Application, Dashboard]:
    d = Dashboard(settings)
    app = web.Application(
        middlewares=[refuse_nul, cap_body(settings.max_body_bytes)], client_max_size=settings.max_body_bytes
    )
    app.add_routes(d.routes())

    async def on_startup(_app: web.Application) -> None:
        await d.start()

    async def on_cleanup(_app: web.Application) -> None:
        await d.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app, d
