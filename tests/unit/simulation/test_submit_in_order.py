"""Regression: the Tuyên Quang period's table came out one dossier off in a CI run (230 returned by
post where the department's table says 231). The workload posted up to 32 submissions at once, and
under a governed clock that runs days past the last proven moment a request of the evening reached
the portal after one of the next morning; the one-stop officer had taken the morning's up before
the evening's was read. A run with officers' queues now posts each submission once the one planned
before it was answered (simulation/submit.py, IN_ORDER).

The portal here is a stand-in HTTP server (a unit test of the poster, not of the portal): it
answers the first submission slowly and the others at once, and records the order it accepted
them in."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from contracts.clock import VN_TZ, SimClock
from deploy.embedded import free_port
from runtime.settings import Settings
from simulation.submit import Progress, submit_all
from simulation.workload.plan import Planned

EVENING = datetime(2023, 12, 18, 17, 20, tzinfo=VN_TZ)


async def _posted(in_order: bool, tmp_path: Path) -> list[str]:
    accepted: list[str] = []

    async def dossiers(request: web.Request) -> web.Response:
        body = await request.json()
        if body["name"] == "evening":
            await asyncio.sleep(0.3)  # a slow transaction at the portal
        accepted.append(body["name"])
        return web.json_response({"dossier_id": body["name"]}, status=202)

    app = web.Application()
    app.router.add_post("/api/v1/dossiers", dossiers)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        settings = Settings(home=tmp_path, portal_host="127.0.0.1", portal_port=port, submitter_token="t")
        # Both planned times have passed on this clock: both are posted at once.
        clock = SimClock(EVENING + timedelta(days=2), time.time())
        planned = [
            Planned(EVENING, "lltp", {"name": "evening"}, key="k-1"),
            Planned(EVENING + timedelta(hours=13, minutes=51), "lltp", {"name": "morning"}, key="k-2"),
        ]
        await submit_all(settings, clock, "run", planned, False, Progress(), in_order=in_order)
    finally:
        await runner.cleanup()
    assert [p.status for p in planned] == [202, 202]
    return accepted


async def test_a_run_with_officers_queues_posts_each_submission_after_the_one_planned_before(tmp_path: Path) -> None:
    assert await _posted(True, tmp_path) == ["evening", "morning"]
    # Without it, the morning's request overtakes the evening's slow one: what broke.
    assert await _posted(False, tmp_path) == ["morning", "evening"]
