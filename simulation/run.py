"""`lienthong run`: a profile's dossiers, submitted through the portal's HTTP API at their sim
arrival times, followed until nothing moves; the last stdout line is a JSON summary.

Each run is a new simulation: sim time starts at the profile's period, so the simulators'
state is reset and the services restart on the run's clock (deploy/stack.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog

from contracts.chains import CHAIN_NAMES
from contracts.clock import VN_TZ, SimClock
from contracts.event_types import STEP_REJECTED
from ops import runclock
from runtime.secrets import submitter_headers
from runtime.settings import Settings
from runtime.terminal import Console
from simulation.chaos import record as chaos_record
from simulation.chaos import record_windows, run_process_faults
from simulation.faults.inject import Hit, Injector
from simulation.governor import Governor
from simulation.probes import agency_health, monitor_ports
from simulation.sabotage import TruthRow
from simulation.submit import CONCURRENCY, Progress, submit_all
from simulation.workload.frontier import Frontier
from simulation.workload.plan import Planned, plan
from simulation.workload.profiles import BAD_DATA_KINDS, Profile, load_curve

log = structlog.get_logger()

TAIL_DAYS = 21
"""Sim days after the period by which every dossier must be finished (15 working days and more)."""


def failure(task: asyncio.Task[None]) -> list[str]:
    """Why a finished task failed, if it did (a task still running or cancelled did not)."""
    if not task.done() or task.cancelled() or (exc := task.exception()) is None:
        return []
    return [f"{type(exc).__name__}: {exc}"]


async def fetch_stats(http: aiohttp.ClientSession, settings: Settings, run_id: str) -> dict[str, dict[str, int]]:
    """The run's counts per chain at the portal, asked as the workload's submitter (the per-client
    limit is for citizens); an answer that is not them (an outage's 503) raises ClientResponseError,
    which the callers ask again after."""
    url = f"{settings.portal_url}/api/v1/stats"
    async with http.get(url, params={"run_id": run_id}, headers=submitter_headers(settings)) as r:
        r.raise_for_status()
        stats: dict[str, dict[str, int]] = (await r.json())["chains"]
        return stats


async def report_progress(
    settings: Settings, clock: SimClock, run_id: str, profile: Profile, progress: Progress, console: Console
) -> None:
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while True:
            with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                progress.stats = await fetch_stats(http, settings, run_id)
            parts = []
            for chain in profile.volumes:
                s = progress.stats.get(chain, {})
                done = s.get("completed", 0) + s.get("rejected", 0)
                parts.append(f"{chain} {progress.submitted.get(chain, 0)}/{profile.expected(chain)} nộp · {done} xong")
            finished = sum(s.get("completed", 0) + s.get("rejected", 0) for s in progress.stats.values())
            rate = finished / max(time.monotonic() - started, 1e-9)
            what = f"{clock.now():%Y-%m-%d %H:%M} │ " + " │ ".join(parts) + f" │ {rate:.0f} hồ sơ/s"
            console.count(what, finished, sum(profile.expected(c) for c in profile.volumes))
            await asyncio.sleep(1.0 if console.live else 2.0)


async def wait_settled(
    settings: Settings,
    clock: SimClock,
    run_id: str,
    profile: Profile,
    settle_s: float,
    timeout_s: float,
    idle_for_good: Callable[[], bool] = lambda: False,
) -> dict[str, dict[str, int]]:
    """Until no dossier of the run is in progress; or, once the sim clock is past the period and
    its tail, until nothing moved for `settle_s` real seconds, or the governed clock's last proof
    showed that nothing is due anywhere any more (what is left waits for an operator)."""
    tail_end = datetime.combine(profile.end, datetime.min.time(), VN_TZ) + timedelta(days=TAIL_DAYS)
    last: Any = None
    last_change = time.monotonic()
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while True:
            try:
                stats = await fetch_stats(http, settings, run_id)
            except (TimeoutError, aiohttp.ClientError):
                # The portal restarts (a killed process, a broker crash): ask again shortly.
                await asyncio.sleep(0.5)
                continue
            if stats != last:
                last, last_change = stats, time.monotonic()
            if sum(c["in_progress"] for c in stats.values()) == 0:
                return stats
            quiet = time.monotonic() - last_change > settle_s
            if ((quiet or idle_for_good()) and clock.now() > tail_end) or time.monotonic() > deadline:
                return stats
            await asyncio.sleep(0.5)


async def record_bad_data(settings: Settings, planned: list[Planned]) -> None:
    """Ground truth for the scorer: the accepted dossiers that carry bad data (the monitor must
    flag those a checking agency refuses for their identity data)."""
    hits: list[TruthRow] = [
        (p.dossier_id, None, Hit(p.bad, "bad_data", "dossier", p.at))
        for p in planned
        if p.bad and p.dossier_id and not p.copy
    ]
    await chaos_record(settings, hits)


@dataclass(frozen=True)
class Final:
    """Where a dossier that carried bad data ended, as the portal knows it."""

    status: str
    """The portal's status: rejected, completed or in_progress."""
    refused_by: str | None = None
    """The agency whose step refused it with a reason (its `step.rejected` is in the timeline),
    even when the refusal's result never reached the portal (a fault dropped it)."""


async def outcomes(settings: Settings, planned: list[Planned]) -> dict[str, Final]:
    """Final status of each accepted dossier that carried bad data."""
    ids = [p.dossier_id for p in planned if p.bad and p.dossier_id and not p.copy]
    out: dict[str, Final] = {}
    sem = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30), headers=submitter_headers(settings)
    ) as http:

        async def one(dossier_id: str) -> None:
            async with sem, http.get(f"{settings.portal_url}/api/v1/dossiers/{dossier_id}") as r:
                body = await r.json()
            refused_by = next((t["agency"] for t in body["timeline"] if t["type"] == STEP_REJECTED), None)
            out[dossier_id] = Final(body["status"], refused_by)

        await asyncio.gather(*(one(i) for i in ids))
    return out


def summarise(
    profile: Profile, planned: list[Planned], stats: dict[str, dict[str, int]], final: dict[str, Final]
) -> tuple[dict[str, Any], dict[str, Any]]:
    chains: dict[str, Any] = {}
    for chain in CHAIN_NAMES:
        originals = [p for p in planned if p.chain == chain and not p.copy]
        copies = [p for p in planned if p.chain == chain and p.copy]
        refused = sum(1 for p in originals if p.status is not None and 400 <= p.status < 500)
        s = stats.get(chain, {})
        chains[chain] = {
            "expected": profile.expected(chain),
            "submitted": sum(1 for p in originals if p.status is not None),
            "accepted": sum(1 for p in originals if p.dossier_id),
            "completed": s.get("completed", 0),
            "rejected": s.get("rejected", 0) + refused,
            "refused_at_portal": refused,
            "in_progress": s.get("in_progress", 0),
            "duplicates": {
                "submitted": len(copies),
                "refused": sum(1 for p in copies if p.status == 409),
            },
        }
    bad: dict[str, Any] = {}
    for kind in BAD_DATA_KINDS:
        hits = [p for p in planned if p.bad == kind and (p.copy or kind != "duplicate_submission")]
        if not hits:
            continue
        counts = {"injected": len(hits), "refused": 0, "result_not_delivered": 0, "in_progress": 0, "not_refused": 0}
        for p in hits:
            end = final.get(p.dossier_id or "")
            if (p.status is not None and 400 <= p.status < 500) or (end is not None and end.status == "rejected"):
                counts["refused"] += 1
            elif end is not None and end.refused_by is not None:
                # Refused with a reason by the agency that checks it; a fault kept the result
                # from the portal, and the monitor reports that as a lost handoff.
                counts["refused"] += 1
                counts["result_not_delivered"] += 1
            elif end is not None and end.status == "in_progress":
                counts["in_progress"] += 1  # held by a fault before the check; redrive takes it on
            else:
                counts["not_refused"] += 1
        bad[kind] = counts
    return chains, bad


JUDGED_WAIT_S = 30.0
"""Real seconds the run waits, once sim time stood, for every monitor worker to have judged up to
the moment the run settled, before it reports that one has not."""


async def stop_clock(settings: Settings, clock: SimClock, rate: float | None = None) -> datetime | None:
    """Stop sim time once the run settled (ops/runclock.py), running the margin at `rate`,
    and wait until every monitor worker has judged every deadline up to the moment it settled
    (its /healthz `judged_at`): the sim time it stood at."""
    path = settings.sim_clock_file
    if path is None or not path.exists():
        return None
    settled = clock.now()
    seg = runclock.stop(clock, path, rate=rate)
    await asyncio.sleep(max(0.0, seg.anchor - time.time()))
    behind = await judged_to(settings, settled, JUDGED_WAIT_S)
    if behind:
        log.warning("a monitor worker has not judged up to the run's end", workers=behind, settled=settled.isoformat())
    return seg.epoch


async def judged_to(settings: Settings, t: datetime, timeout_s: float) -> list[str]:
    """Wait until every monitor worker's judged time is at or past `t`; the ones still short of it
    after `timeout_s` (none: all got there)."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as http:
        while True:
            ports = monitor_ports(settings.home)
            bodies = await agency_health(http, ports)
            behind = sorted(
                name
                for name in ports
                if not (bodies.get(name) or {}).get("judged_at")
                or datetime.fromisoformat(str(bodies[name]["judged_at"])) < t
            )
            if not behind or time.monotonic() >= deadline:
                return behind
            await asyncio.sleep(0.1)


async def run(  # noqa: PLR0913 (the run's collaborators, built once by the command)
    profile: Profile,
    settings: Settings,
    clock: SimClock,
    console: Console,
    settle_s: float = 30.0,
    timeout_s: float = 3 * 3600.0,
    injector: Injector | None = None,
    governor: Governor | None = None,
) -> dict[str, Any]:
    run_id = f"{profile.name}-{uuid.uuid4().hex[:8]}"
    planned = plan(profile, settings.seed)
    burst = load_curve(profile.arrival).burst
    n = sum(1 for p in planned if not p.copy)
    console.step(
        f"run {run_id}: {n} dossiers from {profile.start} over {profile.days} sim days "
        + (
            f"({sum(profile.carried_over.values())} carried over from {profile.run_start}) "
            if profile.carried_over
            else ""
        )
        + (
            f"as fast as the services keep up, at most {max(governor.ceiling, clock.speed):g} (governed; "
            f"{clock.speed:g} is the yardstick of ticks and bounds)"
            if governor is not None
            else f"at speed {clock.speed:g}"
        )
        + f" → {settings.portal_url}"
    )
    started = time.monotonic()
    progress = Progress()
    stop_governing = asyncio.Event()
    frontier = Frontier(planned)
    if governor is not None:
        governor.submissions = frontier.through
    governing = asyncio.create_task(governor.run(stop_governing)) if governor is not None else None
    reporter = asyncio.create_task(report_progress(settings, clock, run_id, profile, progress, console))
    chaos: asyncio.Task[None] | None = None
    process_faults: list[dict[str, str]] = []
    fault_errors: list[str] = []
    """A process fault the harness failed to carry out: the ground truth is then incomplete."""
    if injector is not None:
        windows = await record_windows(settings, injector)
        console.step(f"injecting {len(injector.faults)} faults ({windows} in time windows)")
        chaos = asyncio.create_task(run_process_faults(settings, clock, injector, console, process_faults))
    try:
        await submit_all(settings, clock, run_id, planned, burst, progress, frontier, in_order=bool(profile.staffing))
        await record_bad_data(settings, planned)
        if progress.errors:
            console.step(f"{len(progress.errors)} submissions failed after retries, first: {progress.errors[0]}")
        if chaos is not None:
            # The scenario is not over before its last strike played out: a run that settled
            # first would cancel the strikes still to come (nothing of this reaches the services).
            await asyncio.wait([chaos])
        idle = governor.idle_for_good if governor is not None else (lambda: False)
        stats = await wait_settled(settings, clock, run_id, profile, settle_s, timeout_s, idle)
    finally:
        reporter.cancel()
        stop_governing.set()
        if governing is not None:
            await governing
        if chaos is not None:
            fault_errors += failure(chaos)
            chaos.cancel()
        console.done()
    elapsed = time.monotonic() - started
    ended_at = await stop_clock(settings, clock, governor.rate if governor is not None else None)
    final = await outcomes(settings, planned)
    chains, bad = summarise(profile, planned, stats, final)
    finished = sum(c["completed"] + c["rejected"] for c in chains.values())
    period_start = datetime.combine(profile.run_start, datetime.min.time(), VN_TZ)
    sim_s = ((ended_at or clock.now()) - period_start).total_seconds()
    return {
        "profile": profile.name,
        "run_id": run_id,
        "speed": clock.speed,
        "chains": chains,
        "bad_data": bad,
        "elapsed_s": round(elapsed, 2),
        "dossiers_per_s": round(finished / elapsed, 1) if elapsed else None,
        "mean_speed": round(sim_s / elapsed) if elapsed else None,
        "sim_days": round((clock.now() - period_start).total_seconds() / 86400, 2),
        "ended_at": ended_at.isoformat() if ended_at else None,
        "submit_errors": len(progress.errors),
        "submissions_deferred_by_outage": progress.deferred,
        "faults": injector.scenario if injector else "none",
        "process_faults": process_faults,
        "fault_errors": fault_errors,
        **({"governor": governor.summary()} if governor is not None else {}),
    }
