"""Faults a run injects from outside the services: `kill -9` of a service (restarted by the
supervisor) or of the broker (simulation/faults/broker.py), a service frozen with SIGSTOP for some
real seconds (a hung process: nothing restarts it, it resumes), and a service's PostgreSQL
connections terminated. Each is recorded in the ground truth when it happens, with what the
harness measured: when every consumer it disturbed was back (`until`) and, by id, each message it
caught in flight (simulation/inflight.py; effect `in_flight`). So is every window fault of the
scenario (an outage, a payment failure day, an overloaded link), at its window.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Protocol

import asyncpg

from contracts.clock import SimClock
from contracts.topics import AGENCIES
from deploy.embedded import pid_alive
from deploy.processes import process_of
from deploy.state import StackState
from runtime.clockfile import sleep_until
from runtime.settings import Settings
from simulation.faults import truth
from simulation.faults.broker import restart_broker
from simulation.faults.catalogue import PROCESS_EFFECTS, Fault
from simulation.faults.inject import Hit, Injector
from simulation.inflight import Flight, caught
from simulation.probes import agency_ports, rejoined, restarted
from simulation.sabotage import TruthRow

FREEZE_S = 25.0
"""Real seconds a frozen process stays stopped when its fault does not say."""


class Progress(Protocol):
    """Where the harness reports what it does (the CLI's console)."""

    def step(self, text: str) -> None: ...


def subject(f: Fault) -> str:
    kind, value = next(iter(f.target.items()))
    if kind == "process":
        return "process:broker" if value == "broker" else f"agency:{process_of(value)}"
    return f"{kind}:{value}"


async def record_windows(settings: Settings, injector: Injector) -> int:
    """Ground truth for the scenario's window faults on agencies and links."""
    hits: list[TruthRow] = []
    for f in injector.faults:
        if f.window is None or f.effect in PROCESS_EFFECTS:
            continue
        opens, ends = injector.window_of(f)
        hits.append((None, None, Hit(f.name, f.effect, subject(f), opens, ends, detail="window")))
    await record(settings, hits)
    return len(hits)


async def run_process_faults(
    settings: Settings,
    clock: SimClock,
    injector: Injector,
    console: Progress,
    done: list[dict[str, str]],
) -> None:
    """Inject each process fault when sim time reaches its window, appending what happened to
    `done`; returns when all are done. Each strike goes at its own time, whether or not an
    earlier one has recovered (a real fault does not wait for the last one), and nothing is
    announced: the run's clock learns of a fault only by the proofs that stop coming
    (simulation/governor.py)."""
    faults = sorted((f for f in injector.faults if f.effect in PROCESS_EFFECTS), key=lambda f: injector.window_of(f)[0])
    await asyncio.gather(*(strike(settings, clock, injector, f, console, done) for f in faults))


async def strike(
    settings: Settings,
    clock: SimClock,
    injector: Injector,
    f: Fault,
    console: Progress,
    done: list[dict[str, str]],
) -> None:
    """One process fault at its time, and its ground truth: what was struck, and what was in flight."""
    at, _ = injector.window_of(f)
    await sleep_until(clock, at)
    target = f.target["process"]
    happened = clock.now()
    struck = time.time()
    recovered: float | None = None
    if f.effect == "kill" and target == "broker":
        detail, recovered, flights = await restart_broker(settings)
    elif f.effect == "kill":
        detail, recovered, flights = await kill_service(settings, target)
    elif f.effect == "freeze":
        detail, recovered, flights = await freeze_service(settings, target, float(f.params.get("seconds", FREEZE_S)))
    else:
        detail, flights = await drop_connections(settings, target)
    until = clock.at(recovered) if recovered else None
    console.step(f"fault {f.name}: {detail}; {len(flights)} messages in flight")
    done.append(
        {
            "fault": f.name,
            "effect": f.effect,
            "target": target,
            "at": happened.isoformat(),
            "detail": detail,
            "in_flight": str(len(flights)),
            # Real seconds until what was killed served again ("" for a cut of connections,
            # which nothing restarts, or a kill not recovered in time).
            "recovered_s": f"{recovered - struck:.1f}" if recovered else "",
        }
    )
    where = "in flight at " + ("the broker crash" if target == "broker" else f"{f.effect} {target}")
    rows: list[TruthRow] = [(None, None, Hit(f.name, f.effect, subject(f), happened, until, detail=detail))]
    rows += [
        (x.dossier_id, x.event_id, Hit(f.name, "in_flight", x.subject, happened, until, detail=where)) for x in flights
    ]
    await record(settings, rows)


async def kill_service(settings: Settings, name: str) -> tuple[str, float | None, list[Flight]]:
    """kill -9 one process; returns what happened, when (real time) every consumer of its group
    had partitions again (the supervisor restarts it), and what it caught in flight: messages to
    its agency not yet in the inbox, and its own not yet published."""
    home = settings.home.resolve()
    pid = StackState(home).pid_of(name)
    if pid is None or not pid_alive(pid):
        return f"{name} was not running", None, []
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    agency = process_of(name)
    flights = await caught(settings, receivers=[agency], unpublished_of=(agency,))
    if agency not in AGENCIES:
        back = await restarted(home, name, pid)
        took = f"serving again {back - killed:.1f} s after" if back else "not serving again in time"
        return f"kill -9 {name} (pid {pid}); the supervisor restarts it; {took}", back, flights
    back = await rejoined(home, killed, {k: v for k, v in agency_ports(home).items() if process_of(k) == agency})
    took = f"its group back {back - killed:.1f} s after" if back else "its group not back in time"
    return f"kill -9 {name} (pid {pid}); the supervisor restarts it; {took}", back, flights


async def freeze_service(settings: Settings, name: str, seconds: float) -> tuple[str, float | None, list[Flight]]:
    """SIGSTOP one process for `seconds` real seconds, then SIGCONT: a hung process, which keeps
    its port and its pid (its /metrics stops answering, so Prometheus sees it down) and which no
    supervisor restarts. Returns what happened, when (real time) it answered its /healthz again
    with its partitions, and what it caught in flight when it froze."""
    home = settings.home.resolve()
    pid = StackState(home).pid_of(name)
    if pid is None or not pid_alive(pid):
        return f"{name} was not running", None, []
    os.kill(pid, signal.SIGSTOP)
    agency = process_of(name)
    try:
        flights = await caught(settings, receivers=[agency], unpublished_of=(agency,))
        await asyncio.sleep(seconds)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    resumed = time.time()
    back = await restarted(home, name, None)
    took = f"serving again {back - resumed:.1f} s after SIGCONT" if back else "not serving again in time"
    return f"SIGSTOP {name} (pid {pid}) for {seconds:g} s, then SIGCONT; {took}", back, flights


async def drop_connections(settings: Settings, name: str) -> tuple[str, list[Flight]]:
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND pid <> pg_backend_pid()) t",
            name,
        )
    finally:
        await conn.close()
    agency = process_of(name)
    flights = await caught(settings, receivers=[agency], unpublished_of=(agency,))
    return f"terminated {n} PostgreSQL connections of {name}", flights


async def record(settings: Settings, hits: list[TruthRow]) -> None:
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        await truth.apply_schema(conn)
        async with conn.transaction():
            await truth.record(conn, hits)
    finally:
        await conn.close()
