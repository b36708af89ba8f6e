"""The harness's composition root: one run of a workload profile on a freshly started stack,
with its faults, its governed clock and its probes, waited until it settles. `lienthong run` and
`lienthong chaos` parse their flags into a `RunRequest` and call `execute`; everything a run
needs is built here, once, and handed to the run as parameters. What the run acts through (the
stack, the run itself, the probes) comes in as `Ports`, the real ones by default, so a test runs
the composition on fakes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from contracts import adminunits, topics
from contracts.clock import VN_TZ, Segment
from contracts.topics import AGENCIES
from deploy import stack, state
from deploy.processes import parse_replicas
from deploy.state import StackRecord
from runtime.clockfile import write_segments
from runtime.settings import Settings, clock_env
from runtime.terminal import Console
from simulation import run
from simulation.external import ExternalWatch
from simulation.faults.inject import unknown_communes
from simulation.port import FaultSettings
from simulation.port import injector as faults_of
from simulation.probes import queues, rejoined, stamping
from simulation.workload import profiles
from streams.console import waiting


@dataclass(frozen=True)
class RunRequest:
    """What a run is asked to do (the flags of `lienthong run`)."""

    profile: str = "smoke"
    speed: float | None = None
    """Sim seconds per real second: a governed run's ceiling, or a steady run's pace."""
    governor: bool = True
    settle_s: float = 30.0
    faults: str = "none"
    """A scenario's name, or the path of a scenario file."""
    external: tuple[str, ...] = ()
    """Agencies an integrator runs: not started here, watched on the broker."""
    replicas: str | None = None
    allow_unfinished: bool = False


RUN_LEAD_S = 10.0
"""Real seconds between setting a run's clock and sim time reaching the period's start, when no
earlier run on this stack measured how long the services take to be ready."""
MAX_RUN_LEAD_S = 60.0


def run_lead(home: Path) -> float:
    """The lead for the next run: the last measured readiness (services restarted and every
    agency's consumer assigned) with a margin. A handoff sent before its receiver's consumer is
    assigned waits unacknowledged, which the monitor rightly reports as lost (33 alerts at the
    start of a half-year run whose services were ready 10 s after its clock started)."""

    ready = state.StackState(home).stack().get("ready_s")
    return RUN_LEAD_S if ready is None else min(MAX_RUN_LEAD_S, max(RUN_LEAD_S, 1.25 * float(ready) + 2.0))


def _check_communes(injector: Any, profile: Any, scenario: str) -> None:
    """Refuse a fault narrowed to a commune the profile's province does not have during the
    period (the 2025 reform renamed and merged communes), naming the scenario and the key."""
    days = [profile.start, profile.end - timedelta(days=1)]
    known = {u.commune for day in days for u in adminunits.in_force(profile.province, day)}
    missing = unknown_communes(injector.faults, known)
    if missing:
        name, commune = missing[0]
        raise ValueError(
            f"fault scenario {scenario}: {name}.target.communes: no commune {commune!r} in province "
            f"{profile.province} between {days[0]:%d/%m/%Y} and {days[1]:%d/%m/%Y}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )


class Stack(Protocol):
    """How a run gets its stack (`deploy.stack` is one)."""

    def ensure_infra(self, settings: Settings, console: Console) -> tuple[Settings, StackRecord]: ...

    def start_fresh(
        self,
        settings: Settings,
        console: Console,
        external: list[str],
        clock: dict[str, str | float],
        env: dict[str, str],
        replicas: dict[str, int] | None = None,
    ) -> Settings: ...


@dataclass(frozen=True)
class Ports:
    """What a run acts through: the stack, the run of the workload, and the probes it asks."""

    stack: Stack
    run: Callable[..., Coroutine[Any, Any, dict[str, Any]]]
    ready: Callable[[Path, float], Coroutine[Any, Any, float | None]]
    """Seconds from a moment until every agency's consumer had its partitions."""
    stamping: Callable[[Path], Coroutine[Any, Any, dict[str, Any]]]
    waiting: Callable[[Settings], Coroutine[Any, Any, dict[str, str]]]
    """Where each unfinished dossier waits."""
    queues: Callable[[Path], Coroutine[Any, Any, list[dict[str, Any]]]] = queues
    """The officers' desks hour by hour (runtime/officers.py)."""


def execute(request: RunRequest, settings: Settings, console: Console, ports: Ports | None = None) -> dict[str, Any]:
    """Start a fresh stack on `settings` (its broker chosen), run the requested profile with its
    faults until it settles, and return the run's summary (what `lienthong run` prints;
    `lienthong chaos` runs the same way)."""
    ports = ports or real_ports()

    profile = profiles.load(request.profile)
    speed = request.speed or profile.speed
    if speed <= 0:
        raise ValueError("--speed must be positive")
    # The clock starts on the run's first day (the day before the period when dossiers are
    # carried over into it); fault windows are placed from the period's first day.
    epoch = datetime.combine(profile.run_start, datetime.min.time(), VN_TZ)
    period_start = datetime.combine(profile.start, datetime.min.time(), VN_TZ)
    # A scenario file of the user's own is passed on as an absolute path: the services start elsewhere.
    scenario = str(Path(request.faults).resolve()) if request.faults.endswith((".yaml", ".yml")) else request.faults
    faults = FaultSettings(faults=scenario, start=period_start.isoformat(), days=float(profile.days))
    injector = faults_of(settings.replace(sim_speed=speed), faults)  # a bad scenario fails here, early
    if injector is not None:
        _check_communes(injector, profile, request.faults)
    # The broker and PostgreSQL first: a cold start of either (a Kafka cluster, a new database)
    # takes longer than any lead, and a clock started before them would leave the monitor a day
    # of sim time behind. The lead then only covers the services' restart; sim time reaches the
    # period's start once they are ready.
    setup_started = time.monotonic()
    ports.stack.ensure_infra(settings, console)
    home = settings.home.resolve()
    lead = run_lead(home)
    anchor = time.time() + lead
    # The bound goes to the services only (the command line never stamps), so it cannot leak
    # from one run's stack.json into the next run's default.
    bound = profile.stamping_bound_s or settings.sim_max_lag_s
    # The run's clock file: the governor changes its rate there (simulation/governor.py), and the
    # run stops it there once it settled (ops/runclock.py); a steady run holds one segment.
    clock_file = home / "clock.json"
    home.mkdir(parents=True, exist_ok=True)
    clock_file.unlink(missing_ok=True)
    governed = clock_file if request.governor else None
    clock: dict[str, str | float] = {
        "sim_epoch": epoch.isoformat(),
        "sim_anchor": anchor,
        "sim_speed": speed,
        "sim_clock_file": str(clock_file),
    }
    if governed:
        clock["sim_max_lag_s"] = bound
    else:
        write_segments(clock_file, [Segment(anchor, epoch, speed)])
    # Without --speed: as fast as the services keep up, to BOOST × the profile's speed (which
    # stays the yardstick of ticks, bounds and the silence limit). --speed sets the yardstick and
    # is the ceiling; so is the profile's speed beside an integrator's agency, which beats every
    # LT_HEARTBEAT_S real seconds as the contract says: a faster clock would stretch its beats
    # past the monitor's silence limit.
    from simulation.governor import BOOST

    ceiling = speed if (request.speed or request.external or not governed) else speed * BOOST
    env = {
        **clock_env(epoch, anchor, speed, bound, clock_file, ceiling),
        "LT_LLTP_ISSUER": profile.lltp_issuer,
        "LT_STAFFING_FILE": str(profile.staffing or ""),
        "LT_SIMULATION": faults.encode(),
    }
    replicas = parse_replicas(request.replicas)
    governor = None
    if governed:
        from simulation.governor import IDLE_BOOST, Governor

        # Idle stretches at IDLE_BOOST × the speed, up to the next moment anything is due; not
        # beside an integrator's agency, which beats on real time only (docs/time.md).
        idle = 0.0 if request.external else IDLE_BOOST * speed
        governor = Governor(settings.replace(**clock).clock(), governed, home, ceiling=ceiling, idle_rate=idle)
        governor.start()  # before the services start: they read the file from their first stamp
    settings = ports.stack.start_fresh(settings, console, list(request.external), clock, env, replicas)
    if governor is not None and request.external:
        governor.external = external_watch(settings, list(request.external))
    setup_s = time.monotonic() - setup_started
    ready_s = asyncio.run(ports.ready(home, anchor - lead))
    if ready_s is not None:
        records = state.StackState(home)
        records.save_stack({**records.stack(), "ready_s": round(ready_s, 2)})
        if ready_s > lead:
            console.step(
                f"warning: the services were ready {ready_s - lead:.1f} s after the run's clock started "
                f"(lead {lead:.0f} s); the next run on this stack leaves more time"
            )
    summary = asyncio.run(
        ports.run(
            profile,
            settings,
            settings.clock(),
            console,
            settle_s=request.settle_s,
            injector=injector,
            governor=governor,
        )
    )
    summary["stamping"] = {"bound_s": bound, **asyncio.run(ports.stamping(home))}
    if summary["stamping"]["clamped"]:
        console.step(
            f"warning: {summary['stamping']['clamped']} events were stamped later than their model time "
            f"(processing trailed by up to {summary['stamping']['lag_max_s']:.1f} s, bound "
            f"{bound:g} s): alerts on them may come from this machine's lag"
        )
    summary["queues"] = asyncio.run(ports.queues(home))
    unfinished = sum(c.get("in_progress", 0) for c in summary["chains"].values())
    summary["in_progress"] = unfinished
    # A fault scenario holds dossiers on purpose (they wait for redrive), and so may an
    # integrator's agency with --allow-unfinished; anything else unfinished is a failed run.
    allowed = request.allow_unfinished or request.faults != "none"
    if unfinished:
        places = Counter(asyncio.run(ports.waiting(settings)).values())
        summary["waiting_at"] = dict(places.most_common())
        where = ", ".join(f"{n} at {place}" for place, n in places.most_common(5))
        console.step(
            f"{'warning' if allowed else 'error'}: {unfinished} accepted dossiers were still in progress when the "
            f"run settled ({where}); `lienthong alerts --open` shows why, "
            "`lienthong redrive --all-lost --wait 120` sends lost ones again"
            + ("" if allowed else "; --allow-unfinished accepts this (an agency that drops dossiers on purpose)")
        )
    if summary["fault_errors"]:
        # The ground truth lacks what the harness failed to do, so a score of this run would
        # judge the monitor against faults that never happened: the run fails.
        failed = summary["fault_errors"][0]
        console.step(f"error: a process fault failed, the run's ground truth is incomplete: {failed}")
    summary["setup_s"] = round(setup_s, 2)
    summary["ready_s"] = None if ready_s is None else round(ready_s, 2)
    summary["lead_s"] = round(lead, 2)
    return summary


def exit_code(summary: dict[str, Any], allow_unfinished: bool) -> int:
    """1 when a process fault failed (the ground truth is incomplete) or dossiers are still in
    progress that nobody allowed; else 0."""
    return 1 if summary.get("fault_errors") or (summary.get("in_progress") and not allow_unfinished) else 0


async def _waiting(settings: Settings) -> dict[str, str]:
    """Where each dossier not closed yet waits, as the monitor's event log has it."""
    import asyncpg

    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        return await waiting(conn)
    finally:
        await conn.close()


async def _consumers_ready(home: Path, since: float) -> float | None:
    """Seconds from `since` until every agency's consumer had its partitions (None: not within
    the rejoin timeout, e.g. an agency run elsewhere)."""
    at = await rejoined(home, since)
    return None if at is None else at - since


def real_ports() -> Ports:
    return Ports(stack=stack, run=run.run, ready=_consumers_ready, stamping=stamping, waiting=_waiting)


def external_watch(settings: Settings, external: list[str]) -> ExternalWatch:
    """The broker-side proof of an integrator's agencies (simulation/external.py)."""
    bootstrap, _ = settings.require_infra()
    kind = state.StackState(settings.home.resolve()).broker_kind()
    prefix = settings.topic_prefix
    return ExternalWatch(
        bootstrap,
        {a: topics.work(a, prefix) for a in external},
        frozenset({f"{prefix}.monitor", *(f"{prefix}.{a}" for a in AGENCIES if a not in external)}),
        primed=kind != "kafka",
    )
