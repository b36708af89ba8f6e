"""The HTTP edges refuse a NUL character in the path or the query with 400 and a JSON reason,
before any handler (found by fuzzing: PostgreSQL text cannot hold NUL, so it ended as a 500)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from runtime.edges import refuse_nul


async def test_a_nul_in_the_path_or_the_query_is_a_400_with_a_reason_and_the_rest_passes() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"q": request.query.get("q"), "id": request.match_info["id"]})

    app = web.Application(middlewares=[refuse_nul])
    app.add_routes([web.get("/x/{id}", echo)])
    async with TestClient(TestServer(app)) as client:
        for url in ("/x/a%00b", "/x/a?q=a%00b", "/x/a?a%00b=1"):
            r = await client.get(url)
            assert r.status == 400, url
            assert "NUL" in (await r.json())["error"]
        ok = await client.get("/x/Xã?q=Tùng Lộc")
        assert (ok.status, await ok.json()) == (200, {"q": "Tùng Lộc", "id": "Xã"})
