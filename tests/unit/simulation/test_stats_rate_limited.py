"""Stamp: `make demo` ended in a KeyError traceback, 'chains', while the run waited for dossiers
held by faults: one poll of the portal's counts got an answer that was not counts, and its body
was read as counts. An answer that is not counts now raises an HTTP error, which the run's loops
ask again after; and the polls carry the submitter token, so the per-client limit (every process
of the harness is one client, 127.0.0.1) never refuses them."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from runtime.settings import Settings
from simulation.run import fetch_stats

COUNTS = {"lltp": {"completed": 3, "rejected": 0, "in_progress": 1}}


async def test_the_runs_count_polls_pass_as_the_submitter_and_a_refusal_is_an_http_error(tmp_path: Path) -> None:
    seen: list[str] = []

    async def stats(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer sub-token":
            return web.json_response({"error": "rate_limited"}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"chains": COUNTS})

    app = web.Application()
    app.router.add_get("/api/v1/stats", stats)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        assert server.port is not None
        mine = Settings(home=tmp_path, portal_host="127.0.0.1", portal_port=server.port, submitter_token="sub-token")
        assert await fetch_stats(http, mine, "run-1") == COUNTS
        other = mine.replace(submitter_token="someone-else")
        with pytest.raises(aiohttp.ClientResponseError) as refused:
            await fetch_stats(http, other, "run-1")
        assert refused.value.status == 429
    assert seen == ["Bearer sub-token", "Bearer someone-else"]
