"""The services' ports, and waiting until each answers its `/healthz` (`lienthong up`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from deploy.embedded import free_port


def service_ports(
    wanted: list[str], previous: dict[str, int], fixed: dict[str, int], pick: Callable[..., int] = free_port
) -> dict[str, int]:
    """Each process's port: the one it had, else its fixed one (portal, dashboard), else a free
    one that is neither fixed nor another's (a fresh pick may be a port handed out but not bound
    yet: the portal's once went to lltp, which answered the portal's health checks)."""
    ports = {a: previous[a] for a in wanted if previous.get(a)}
    ports.update({a: fixed[a] for a in wanted if a in fixed and a not in ports})
    for a in wanted:
        if a not in ports:
            ports[a] = pick(avoid={*ports.values(), *fixed.values()})
    return {a: ports[a] for a in wanted}


async def wait_healthy(services: dict[str, int], external: list[str], timeout: float, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        pending = dict(services)
        while pending:
            for name, port in list(pending.items()):
                if await healthy(http, port):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                said = "; ".join(f"{name}: {last_line(logs / f'{name}.log')}" for name in pending)
                raise TimeoutError(
                    f"services not ready after {timeout:.0f} s: {', '.join(pending)} (logs in {logs}/); "
                    f"last lines: {said}"
                )
            await asyncio.sleep(0.3)


def log_tail(path: Path, lines: int) -> str:
    """The last `lines` non-empty lines a process logged (a crash's exception, usually), for an
    error message."""
    try:
        said = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log yet"
    return "\n".join(said[-lines:]) if said else "empty log"


def last_line(path: Path) -> str:
    return log_tail(path, 1)[-300:]


async def healthy(http: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
            return r.status == 200
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False
