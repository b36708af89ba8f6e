"""The workload's submissions to the portal: each posted when the sim clock reaches its time,
retried while the portal cannot be reached, and deferred while it is in an outage."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from contracts.clock import SimClock
from runtime.clockfile import sleep_until
from runtime.secrets import submitter_headers
from runtime.settings import Settings
from simulation.port import SIM_TIME_HEADER
from simulation.workload.frontier import Frontier
from simulation.workload.plan import Planned

CONCURRENCY = 32
"""Submissions on the wire at once."""
IN_ORDER = "officers"
"""Why a run with officers' queues posts in order. A desk plans each take-up as it reads, and a
governed clock runs up to days past the last proven moment: 32 submissions on the wire at once
reached the portal in no order of time, and a request of the evening was accepted after one of
the next morning, whose officer had taken it up before the evening's was read. The queue then
followed the posting, and one run's table differed from the next (runtime/officers.py moves a
dossier read late ahead of those not yet taken up, but not of one already started)."""
RETRY_FOR_S = 60.0
"""Real seconds a submission is retried while the portal cannot be reached (a restarting
process, a broker crash) before it counts as failed."""


@dataclass
class Progress:
    submitted: dict[str, int] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    deferred: int = 0
    """Submissions the portal turned away during an outage, made again when it was back."""


async def submit_all(  # noqa: PLR0913 (the run's settings, clock and workload, and how to post it)
    settings: Settings,
    clock: SimClock,
    run_id: str,
    planned: list[Planned],
    burst: bool,
    progress: Progress,
    frontier: Frontier[Planned] | None = None,
    in_order: bool = False,
) -> None:
    """POST each planned submission when the sim clock reaches its time (at once in a burst);
    `frontier` follows which are still owed (a governed clock waits for them). `in_order`: each
    waits for the one planned before it to be answered, so the portal accepts them in the order
    the citizens made them (officers' queues need it: see IN_ORDER)."""
    url = f"{settings.portal_url}/api/v1/dossiers"
    frontier = frontier or Frontier(planned)
    queue = frontier.take()
    auth = submitter_headers(settings)  # the workload submits for every citizen at once

    # One task per submission, spawned when the clock reaches its time: a submission waiting (for
    # its original, or for the portal to reopen after an outage) holds no worker: a fixed pool
    # whose workers all slept through an outage would leave the next planned submission untaken,
    # and the governed clock would wait for it short of the outage's end.
    posting = asyncio.Semaphore(CONCURRENCY)

    async def one(http: aiohttp.ClientSession, p: Planned, before: Planned | None) -> None:
        if p.original is not None:  # a citizen repeats a submission only after it went through
            frontier.waits_for(p, p.original)
            await p.original.answered.wait()
        if before is not None:
            await before.answered.wait()
        headers = {"X-Lienthong-Run": run_id, "Idempotency-Key": p.key or uuid.uuid4().hex, **auth}
        if not burst:
            headers[SIM_TIME_HEADER] = p.at.isoformat()
        await _submit_one(PortalLine(http, url, posting), p, headers, clock, progress, frontier)
        frontier.answered(p)
        p.answered.set()
        if not p.copy:
            progress.submitted[p.chain] = progress.submitted.get(p.chain, 0) + 1

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        running: set[asyncio.Task[None]] = set()
        before: Planned | None = None
        for p in queue:
            await sleep_until(clock, p.at)
            task = asyncio.create_task(one(http, p, before if in_order else None))
            before = p
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)


@dataclass(frozen=True)
class PortalLine:
    """Where submissions go, and how many may be on the wire at once."""

    http: aiohttp.ClientSession
    url: str
    posting: asyncio.Semaphore


async def _submit_one(
    line: PortalLine,
    p: Planned,
    headers: dict[str, str],
    clock: SimClock,
    progress: Progress,
    frontier: Frontier[Planned],
) -> None:
    """POST one submission until the portal answers it: again after a 429 (same key), after a
    transient error (the same Idempotency-Key makes a retry safe), and once the portal is back
    when it is in an outage (503 with `retry_at`)."""
    attempt = 0
    give_up = time.monotonic() + RETRY_FOR_S
    while True:
        attempt += 1
        try:
            async with line.posting:
                retry_at = await _post(line.http, line.url, p, headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            if time.monotonic() > give_up:
                progress.errors.append(f"{type(exc).__name__}: {exc}")
                return
            await asyncio.sleep(min(2.0, 0.2 * attempt))
            continue
        if retry_at == "":
            return
        if retry_at is not None:
            # The portal is down (an outage): the citizen comes back when it is up again.
            progress.deferred += 1
            back = datetime.fromisoformat(retry_at)
            frontier.waits_until(p, back)
            await sleep_until(clock, back)
            headers[SIM_TIME_HEADER] = back.isoformat()
            attempt, give_up = 0, time.monotonic() + RETRY_FOR_S


async def _post(http: aiohttp.ClientSession, url: str, p: Planned, headers: dict[str, str]) -> str | None:
    """One try: "" when answered (the status and dossier id recorded on `p`), the portal's
    `retry_at` in an outage, None to try again at once (over the per-client limit, after waiting)."""
    async with http.post(url, json=p.doc, headers=headers) as r:
        if r.status == 429:  # over the per-client limit (no submitter token): wait, same key
            await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
            return None
        retry_at: str | None = (await r.json(content_type=None)).get("retry_at") if r.status == 503 else None
        if retry_at is not None:
            return retry_at
        if r.status >= 500:
            raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
        p.status = r.status
        if r.status in (200, 202):
            p.dossier_id = (await r.json())["dossier_id"]
        return ""
