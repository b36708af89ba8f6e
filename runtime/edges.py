"""What every HTTP edge refuses before a handler sees it: a NUL character in the path or the query
string (PostgreSQL text cannot hold one, so it would end as a server error deep inside), answered
400 with a JSON reason in both the portal's and the dashboard's shapes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def refuse_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.query.items()):
        reason = "NUL character in the path or the query string"
        return web.json_response({"error": reason, "problems": [{"field": "$", "reason": reason}]}, status=400)
    return await handler(request)
