"""The composition root of an agency process: everything is built here, inside one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from contracts import topics
from runtime import db, kafkaaccess, progress, staffing
from runtime.agency import AgencyWorker
from runtime.edges import Middleware, cap_body, refuse_nul
from runtime.health import health_routes, start_site
from runtime.heartbeat import beat
from runtime.kafka import AIOKafkaPublisher
from runtime.logging import configure
from runtime.metrics import metrics_route
from runtime.officers import by_hour, outline
from runtime.outbox import PgOutbox
from runtime.population import OverHttp, population
from runtime.relay import OutboxRelay
from runtime.secrets import operator_token
from runtime.settings import Settings
from runtime.simulation import Simulation, load
from runtime.topicadmin import ensure_topics
from runtime.work import Handler

log = structlog.get_logger()


@dataclass
class AgencySpec:
    agency: str
    handlers: Mapping[str, Handler]
    ddl: str = ""
    extra_routes: Callable[[Runtime], list[web.RouteDef]] | None = None
    extra_tasks: Callable[[Runtime], list[Awaitable[Any]]] = field(default=lambda _rt: [])
    middlewares: Callable[[Runtime], list[Middleware]] = field(default=lambda _rt: [])
    """Checks of the agency's own HTTP edge, after the common ones (the portal's rate limit)."""
    port_attr: str = "service_port"


@dataclass
class Runtime:
    """Everything a running agency process holds; handed to its extra routes and tasks."""

    spec: AgencySpec
    settings: Settings
    pool: Any
    publisher: AIOKafkaPublisher
    relay: OutboxRelay
    worker: AgencyWorker
    sim: Simulation

    def status(self) -> dict[str, object]:
        return {
            "agency": self.spec.agency,
            "ready": self.worker.assigned,
            "assigned_at": self.worker.assignments.at,
            "instance": self.settings.instance or self.spec.agency,
            "partitions": self.worker.assignments.partitions,
            "processed": self.worker.processed,
            "duplicates": self.worker.duplicates,
            "dead_lettered": self.worker.dead_lettered_total,
            "published": self.relay.published,
            "backlog": self.worker.backlog,
            "sim_time": self.worker.clock.now().isoformat(),
            **self.worker.stamp.status(),
        }


def progress_route(rt: Runtime) -> web.RouteDef:
    """`GET /progress`: /healthz and what is left to do, for a governed run's clock (runtime/progress.py)."""

    async def handler(_request: web.Request) -> web.Response:
        return web.json_response({**rt.status(), **await progress.report(rt.worker)})

    return web.get("/progress", handler)


def queue_route(rt: Runtime) -> web.RouteDef:
    """`GET /queue`: each of the agency's desks hour by hour (runtime/officers.py `by_hour`):
    counts and waits, no dossier named."""

    async def handler(_request: web.Request) -> web.Response:
        async with rt.pool.acquire() as conn:
            register = await rt.worker.planner.officers.register(conn)
        calendar = rt.worker.calendar
        hours = by_hour(register, calendar.in_office_hours)
        desks = {d.name: d for d in rt.worker.planner.staffing.desks}
        return web.json_response(
            {
                "agency": rt.spec.agency,
                "desks": [
                    {
                        "desk": name,
                        "label_vi": desks[name].label_vi if name in desks else name,
                        "officers": desks[name].officers if name in desks else None,
                        **outline(rows),
                        "hours": rows,
                    }
                    for name, rows in hours.items()
                ],
            }
        )

    return web.get("/queue", handler)


STOP_GRACE_S = 10.0
"""How long each part of an agency has to stop once asked."""


async def serve(spec: AgencySpec, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run one agency until `stop` is set (or SIGTERM / SIGINT when run as a process)."""
    bootstrap, url = settings.require_infra()
    stop = stop or _signal_event()
    pool = await db.create_pool(url, max_size=8, name=spec.agency)
    publisher = AIOKafkaPublisher(bootstrap, client_id=settings.instance or spec.agency)
    tasks: list[asyncio.Task[Any]] = []
    runner: web.AppRunner | None = None
    asked = population(settings.dancu_url)
    try:
        await db.apply_schema(pool, spec.agency, spec.ddl)
        simulation = load(settings)
        async with pool.acquire() as conn:
            await simulation.install(conn)
        await ensure_topics(
            bootstrap, topics.all_topics(settings.topic_prefix), settings.partitions, settings.topic_layout()
        )
        await publisher.start()
        clock = settings.clock()  # one per process: every part reads the same sim time
        chains = settings.chains()
        relay = OutboxRelay(pool, PgOutbox(spec.agency), publisher, clock=clock)
        worker = AgencyWorker(
            agency=spec.agency,
            handlers=spec.handlers,
            pool=pool,
            relay=relay,
            bootstrap=bootstrap,
            prefix=settings.topic_prefix,
            clock=clock,
            chains=chains,
            batch_size=settings.batch_size,
            seed=settings.seed,
            params={"lltp_issuer": settings.lltp_issuer},
            simulation=simulation,
            command_token=operator_token(settings),
            staffing=staffing.load(settings.staffing_file, chains).of_agency(spec.agency, chains),
            population=asked,
        )
        rt = Runtime(spec, settings, pool, publisher, relay, worker, simulation)
        app = web.Application(
            middlewares=[refuse_nul, cap_body(settings.max_body_bytes), *spec.middlewares(rt)],
            client_max_size=settings.max_body_bytes,
        )
        app.add_routes([*health_routes(rt.status), progress_route(rt), queue_route(rt), metrics_route()])
        if spec.extra_routes:
            app.add_routes(spec.extra_routes(rt))
        port = getattr(settings, spec.port_attr)
        runner = await start_site(app, settings.bind_host, port)
        coros: list[Awaitable[Any]] = [
            relay.run(),
            worker.run(),
            worker.run_tasks(),
            beat(
                spec.agency,
                publisher,
                clock,
                settings.topic_prefix,
                settings.beat_interval_s(),
                closed_since=worker.closed_since,
                every=settings.beat_every(),
            ),
            *spec.extra_tasks(rt),
        ]
        tasks = [asyncio.create_task(_named(c), name=getattr(c, "__qualname__", "part")) for c in coros]
        log.info("agency started", port=port)
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not waiter and t.exception():
                raise t.exception()  # type: ignore[misc]  # a crashed loop ends the process; the supervisor restarts it
        waiter.cancel()
    finally:
        await stopped(tasks, runner, publisher, pool)
        if isinstance(asked, OverHttp):
            await asked.close()
        log.info("agency stopped")


async def stopped(
    tasks: list[asyncio.Task[Any]],
    runner: web.AppRunner | None,
    publisher: AIOKafkaPublisher,
    pool: Any,
    grace_s: float = STOP_GRACE_S,
) -> None:
    """Stop every part, each within `grace_s`: a process asked to stop must stop (a supervisor
    or an orchestrator kills it after its grace period), and a part that overran is named in the
    log with where it stood, instead of holding the others. A database pool still waiting for a
    connection to come back is terminated."""
    for t in tasks:
        t.cancel()
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=grace_s)
        for t in late:
            frames = t.get_stack(limit=1)
            where = f"{frames[-1].f_code.co_filename}:{frames[-1].f_lineno}" if frames else "?"
            log.warning("a task did not stop when cancelled", task=t.get_name(), at=where)
    if runner:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner.cleanup(), grace_s)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(publisher.stop(), grace_s)
    try:
        await asyncio.wait_for(pool.close(), grace_s)
    except TimeoutError:
        log.warning("the database pool did not close in time: terminated")
        pool.terminate()


async def _named(coro: Awaitable[Any]) -> Any:
    return await coro


def _signal_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def main(spec: AgencySpec) -> None:
    """Entry point of `python -m services.<agency>`: run the agency `spec` describes."""
    settings = Settings.from_env()
    configure(spec.agency, settings.log_format, settings.log_level)
    kafkaaccess.configure(settings, spec.agency)
    asyncio.run(serve(spec, settings))
