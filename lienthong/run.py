"""`lienthong run`: submit a profile's dossiers through the portal's HTTP API and wait until
nothing moves; the last stdout line is a JSON summary."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from lienthong.ui import Console
from lienthong.workload.citizens import CitizenFactory
from lienthong.workload.profiles import Profile
from services.runtime.settings import Settings

CONCURRENCY = 32


@dataclass
class Tally:
    submitted: dict[str, int] = field(default_factory=dict)
    refused_at_portal: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def dossiers(profile: Profile, settings: Settings) -> list[dict[str, Any]]:
    """Every dossier the profile asks for, in submission order."""
    factory = CitizenFactory(profile.province, settings.seed)
    today = settings.clock().now().date()
    out: list[dict[str, Any]] = []
    for chain, n in profile.volumes.items():
        if chain != "birth":
            raise NotImplementedError(f"chain {chain} is not simulated yet; only birth runs")
        shares = profile.shares.get(chain)
        for _ in range(n):
            online = shares is None or factory.rng.random() < shares.online
            post = shares is not None and factory.rng.random() < shares.post
            out.append(factory.birth_dossier(today, "online" if online else "in_person", post))
    return out


async def submit_all(settings: Settings, run_id: str, docs: list[dict[str, Any]], console: Console) -> Tally:
    tally = Tally()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for d in docs:
        queue.put_nowait(d)
    started = time.monotonic()
    url = f"{settings.portal_url}/api/v1/dossiers"

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            doc = queue.get_nowait()
            key = uuid.uuid4().hex
            for attempt in range(5):
                try:
                    async with http.post(
                        url, json=doc, headers={"X-Lienthong-Run": run_id, "Idempotency-Key": key}
                    ) as r:
                        if r.status in (200, 202):
                            tally.submitted[doc["chain"]] = tally.submitted.get(doc["chain"], 0) + 1
                        elif 400 <= r.status < 500:
                            tally.refused_at_portal[doc["chain"]] = tally.refused_at_portal.get(doc["chain"], 0) + 1
                        else:
                            raise aiohttp.ClientResponseError(r.request_info, (), status=r.status)
                        break
                except (TimeoutError, aiohttp.ClientError) as exc:
                    # The same Idempotency-Key makes a retry safe if the first try got through.
                    if attempt == 4:
                        tally.errors.append(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.2 * (attempt + 1))

    async def report() -> None:
        while True:
            done = sum(tally.submitted.values()) + sum(tally.refused_at_portal.values())
            rate = done / max(time.monotonic() - started, 1e-9)
            console.progress(f"submitting: {done}/{len(docs)} ({rate:.0f}/s)")
            await asyncio.sleep(1.0 if console.live else 5.0)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        reporter = asyncio.create_task(report())
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
        reporter.cancel()
    console.done()
    return tally


async def wait_settled(
    settings: Settings, run_id: str, console: Console, settle_s: float, timeout_s: float
) -> dict[str, Any]:
    """Poll the portal until no dossier of the run is in progress, or nothing moved for `settle_s`."""
    url = f"{settings.portal_url}/api/v1/stats"
    last: Any = None
    last_change = time.monotonic()
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while True:
            async with http.get(url, params={"run_id": run_id}) as r:
                stats: dict[str, Any] = (await r.json())["chains"]
            if stats != last:
                last, last_change = stats, time.monotonic()
            in_progress = sum(c["in_progress"] for c in stats.values())
            closed = sum(c["completed"] + c["rejected"] for c in stats.values())
            console.progress(f"processing: {closed} finished, {in_progress} in progress")
            if in_progress == 0 or time.monotonic() - last_change > settle_s or time.monotonic() > deadline:
                console.done()
                return stats
            await asyncio.sleep(0.5)


async def run(
    profile: Profile, settings: Settings, console: Console, settle_s: float = 30.0, timeout_s: float = 3600.0
) -> dict[str, Any]:
    run_id = f"{profile.name}-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    sim_start = settings.clock().now()
    docs = dossiers(profile, settings)
    console.step(f"run {run_id}: submitting {len(docs)} dossiers to {settings.portal_url}")
    tally = await submit_all(settings, run_id, docs, console)
    if tally.errors:
        console.step(f"{len(tally.errors)} submissions failed after retries, first: {tally.errors[0]}")
    stats = await wait_settled(settings, run_id, console, settle_s, timeout_s)
    elapsed = time.monotonic() - started
    chains = {}
    for chain, expected in profile.volumes.items():
        s = stats.get(chain, {})
        chains[chain] = {
            "expected": expected,
            "submitted": tally.submitted.get(chain, 0),
            "refused_at_portal": tally.refused_at_portal.get(chain, 0),
            "completed": s.get("completed", 0),
            "rejected": s.get("rejected", 0),
            "in_progress": s.get("in_progress", 0),
        }
    finished = sum(c["completed"] + c["rejected"] for c in chains.values())
    return {
        "profile": profile.name,
        "run_id": run_id,
        "chains": chains,
        "elapsed_s": round(elapsed, 2),
        "dossiers_per_s": round(finished / elapsed, 1) if elapsed else None,
        "sim_days": round((settings.clock().now() - sim_start).total_seconds() / 86400, 4),
        "submit_errors": len(tally.errors),
    }
