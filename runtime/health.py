"""The small HTTP surface every service exposes: liveness and readiness as JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

Status = Callable[[], Mapping[str, object]]
"""A process's /healthz body (JSON), with `ready` saying whether it serves."""


def health_routes(status: Status) -> list[web.RouteDef]:
    async def healthz(_request: web.Request) -> web.Response:
        body = status()
        return web.json_response(body, status=200 if body.get("ready") else 503)

    return [web.get("/healthz", healthz)]


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
