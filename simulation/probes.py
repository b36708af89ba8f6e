"""What the harness asks the agencies about themselves, over their /healthz: whether they
answer, when their consumers were last given partitions, how far their stamps trailed. Read by
the chaos harness (recovery after a fault), the governor and `lienthong run`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import aiohttp

from contracts.topics import AGENCIES
from deploy.embedded import pid_alive
from deploy.processes import process_of
from deploy.state import StackState

REJOIN_TIMEOUT_S = 120.0


async def agency_health(
    http: aiohttp.ClientSession, ports: dict[str, int], path: str = "/healthz"
) -> dict[str, dict[str, Any]]:
    """Each answering agency's /healthz body (or another path's), by name (the ones that do not
    answer are left out), asked all at once: one frozen agency must not delay the others by its
    timeout."""

    async def one(port: int) -> dict[str, Any] | None:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            async with http.get(f"http://127.0.0.1:{port}{path}") as r:
                body: dict[str, Any] = await r.json()
                return body
        return None

    answers = await asyncio.gather(*(one(p) for p in ports.values()))
    return {name: body for name, body in zip(ports, answers, strict=True) if body is not None}


async def agency_progress(http: aiohttp.ClientSession, ports: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each answering agency's /progress body (runtime/progress.py), by name."""
    return await agency_health(http, ports, "/progress")


def monitor_ports(home: Path) -> dict[str, int]:
    """Every monitor worker, by name, with its port."""
    return {k: v for k, v in StackState(home).ports().items() if process_of(k) == "monitor"}


def agency_ports(home: Path) -> dict[str, int]:
    """Every agency process and replica, by name, with its port."""
    return {k: v for k, v in StackState(home).ports().items() if process_of(k) in AGENCIES}


def running_services(home: Path) -> dict[str, int]:
    """The supervised processes that run, by name (`hotich`, `monitor-2`), with their pids."""
    children = StackState(home).supervisor().get("services", {})
    return {n: pid for n, c in children.items() if (pid := c.get("pid")) and pid_alive(pid)}


async def rejoined(
    home: Path, since: float, ports: dict[str, int] | None = None, timeout: float = REJOIN_TIMEOUT_S
) -> float | None:
    """When (real time) every agency's consumer (or those of `ports`) had partitions assigned
    again after `since`, as its /healthz reports; None if some had not within `timeout`."""
    ports = agency_ports(home) if ports is None else ports
    deadline = time.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.time() < deadline:
            bodies = (await agency_health(http, ports)).values()
            times = [float(at) for b in bodies if (at := b.get("assigned_at")) is not None and at >= since]
            if len(times) == len(ports):
                return max(times, default=since)
            await asyncio.sleep(0.2)
    return None


async def restarted(home: Path, name: str, old_pid: int | None, timeout: float = REJOIN_TIMEOUT_S) -> float | None:
    """When (real time) the supervisor had process `name` running again under a new pid (any pid
    when `old_pid` is None: a process resumed, not restarted) and answering its /healthz with 200
    (the monitor: with partitions assigned); None if not within `timeout`."""
    deadline = time.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.time() < deadline:
            pid = StackState(home).pid_of(name)
            port = StackState(home).ports().get(name)
            if pid and pid != old_pid and port:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            return time.time()
            await asyncio.sleep(0.2)
    return None


async def stamping(home: Path) -> dict[str, Any]:
    """Over every agency process (since each one's last start, as its /healthz reports): the
    worst real lag a stamp trailed its model time by, and how many stamps that lag clamped."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        bodies = await agency_health(http, agency_ports(home))
    worst = {k: float(b.get("stamp_lag_max_s", 0.0)) for k, b in bodies.items()}
    clamped = {k: int(b.get("stamps_clamped", 0)) for k, b in bodies.items()}
    return {
        "lag_max_s": max(worst.values(), default=None),
        "clamped": sum(clamped.values()),
        "clamped_by_agency": {k: v for k, v in clamped.items() if v},
        "lag_max_by_agency": worst,
    }


async def queues(home: Path) -> list[dict[str, Any]]:
    """Every agency's desks hour by hour, as each agency answers `GET /queue`
    (runtime/officers.py): one answer per agency, whose replicas share its register."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        bodies = await agency_health(http, agency_ports(home), "/queue")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _, body in sorted(bodies.items()):
        agency = str(body.get("agency"))
        if agency in seen:
            continue
        seen.add(agency)
        out += [{"agency": agency, **desk} for desk in body.get("desks", [])]
    return out
